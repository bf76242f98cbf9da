"use strict";
// The declaration form: pickers from the real administrative units, the registry's verdict
// (the mismatching field is highlighted, never the registry's value), and the 72-hour pass.
document.addEventListener("DOMContentLoaded", async () => {
  const me = await VT.nav();
  if (!me) return (location.href = "/login?next=/declare");
  const form = document.getElementById("declare-form");
  const box = document.getElementById("result");
  const $ = (id) => document.getElementById(id);
  const now = new Date(); // the device's own day, not UTC's
  $("travel_date").value = [now.getFullYear(), String(now.getMonth() + 1).padStart(2, "0"), String(now.getDate()).padStart(2, "0")].join("-");
  await Promise.all([VT.unitPicker($("origin-picker"), $("origin_commune_code")),
                     VT.unitPicker($("destination-picker"), $("destination_commune_code"))]);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    form.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
    const value = (id) => $(id).value.trim();
    const body = {
      personal_id: value("personal_id"), full_name: value("full_name"), birth_date: value("birth_date"),
      sex: value("sex"), phone: value("phone") || null,
      symptoms: [...form.querySelectorAll("input[name=symptom]:checked")].map((c) => c.value),
      contact_with_case: $("contact_with_case").checked, contact_with_suspected: $("contact_with_suspected").checked,
      visited_outbreak_area: $("visited_outbreak_area").checked,
      origin_commune_code: value("origin_commune_code"), origin_address: value("origin_address"),
      destination_commune_code: value("destination_commune_code"), destination_address: value("destination_address"),
      travel_date: value("travel_date"), transport: value("transport"), vehicle: value("vehicle") || null,
      purpose: value("purpose") || null,
    };
    const res = await VT.api("/api/v1/declarations", body);
    if (!res.ok) {
      VT.error(box, res);
      const field = res.data && res.data.field && $(res.data.field);
      if (field) {
        const target = field.type === "hidden" ? field.parentElement : field;
        target.classList.add("invalid");
        target.scrollIntoView({ block: "center" });
      }
      return;
    }
    const r = res.data;
    const svg = "data:image/svg+xml;base64," + btoa(unescape(encodeURIComponent(r.pass_svg)));
    box.className = "result ok";
    box.replaceChildren(
      VT.el("p", { id: "pass-ok", class: "badge green" }, "ĐÃ KHAI BÁO / DECLARED"),
      VT.el("p", {}, "Mã QR dùng đến / Pass valid until: ", VT.el("strong", { id: "expires" }, new Date(r.expires_at).toLocaleString("vi-VN"))),
      VT.el("img", { id: "pass-qr", class: "pass-qr", alt: "Mã QR thẻ đi lại / Travel pass QR code", src: svg }),
      VT.el("p", { id: "routed" }, "Đã gửi tới công an " + r.routed_to_police + " xã, phường / Sent to " + r.routed_to_police + " commune police offices"),
      VT.el("code", { id: "pass-text", class: "pass-text" }, r.pass));
    if (r.health_risk) box.append(VT.el("p", { class: "warn" }, "Bạn khai có triệu chứng hoặc tiếp xúc: hãy liên hệ trạm y tế / You declared symptoms or a contact: please call your health station"));
    box.scrollIntoView({ block: "start" });
  });
});
