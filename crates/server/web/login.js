"use strict";
document.addEventListener("DOMContentLoaded", () => {
  VT.nav();
  const form = document.getElementById("login-form");
  const box = document.getElementById("result");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const res = await VT.api("/api/v1/auth/login", {
      username: form.username.value,
      password: form.password.value,
    });
    if (!res.ok) return VT.error(box, res);
    const next = new URLSearchParams(location.search).get("next");
    location.href = next && next.startsWith("/") && !next.startsWith("//") ? next : "/lookup";
  });
});
