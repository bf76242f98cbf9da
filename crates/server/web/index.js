"use strict";
document.addEventListener("DOMContentLoaded", () => VT.nav());
