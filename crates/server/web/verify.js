"use strict";
const FIELD_VI = { personal_id: "số định danh", full_name: "họ và tên", birth_date: "ngày sinh" };
document.addEventListener("DOMContentLoaded", async () => {
  const me = await VT.nav();
  if (!me) return (location.href = "/login?next=/verify");
  const form = document.getElementById("verify-form");
  const box = document.getElementById("result");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const res = await VT.api("/api/v1/identity/verify", {
      personal_id: form.personal_id.value,
      full_name: form.full_name.value,
      birth_date: form.birth_date.value,
    });
    if (!res.ok) return VT.error(box, res);
    box.replaceChildren();
    if (res.data.match) {
      box.className = "result ok";
      box.append(VT.el("p", { id: "verdict" }, "Khớp ✓"), VT.el("p", { class: "en", lang: "en" }, "Match"));
    } else {
      box.className = "result bad";
      const vi = res.data.mismatched.map((f) => FIELD_VI[f] || f).join(", ");
      box.append(VT.el("p", { id: "verdict" }, "Không khớp: " + vi),
                 VT.el("p", { class: "en", lang: "en" }, "No match: " + res.data.mismatched.join(", ")));
    }
  });
});
