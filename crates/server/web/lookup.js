"use strict";
document.addEventListener("DOMContentLoaded", async () => {
  const me = await VT.nav();
  if (!me) return (location.href = "/login?next=/lookup");
  const form = document.getElementById("lookup-form");
  const box = document.getElementById("result");
  // Re-binding a lost phone of the citizen app account of the person looked up.
  const rebind = document.getElementById("rebind-form");
  const rebound = document.getElementById("rebind-result");
  let shown = null;
  rebind.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const res = await VT.api("/api/v1/citizen-accounts/" + encodeURIComponent(shown) + "/phone",
      { phone: document.getElementById("rebind-phone").value.trim(), reason: document.getElementById("rebind-reason").value.trim() });
    if (!res.ok) return VT.error(rebound, res);
    rebound.className = "result ok";
    rebound.replaceChildren(VT.el("p", { id: "rebound" }, "Đã gắn lại số " + res.data.sent_to + " / Re-bound to " + res.data.sent_to));
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    document.getElementById("rebind").hidden = true;
    rebound.replaceChildren();
    const q = form.query.value.trim();
    const res = q.includes("|")
      ? await VT.api("/api/v1/citizens/lookup-qr", { qr: q })
      : await VT.api("/api/v1/citizens/" + encodeURIComponent(q));
    if (!res.ok) return VT.error(box, res);
    const c = res.data.citizen || res.data;
    shown = c.personal_id;
    document.getElementById("rebind").hidden = !["commune_police", "commune_health", "admin"].includes(me.role);
    box.className = "result ok";
    box.replaceChildren(VT.list([
      ["Số định danh", "Personal ID", c.personal_id],
      ["Họ và tên", "Full name", c.full_name],
      ["Ngày sinh", "Birth date", c.birth_date],
      ["Giới tính", "Sex", c.sex === "M" ? "Nam / Male" : "Nữ / Female"],
      ["Thường trú", "Permanent residence", c.permanent.address + " — " + c.permanent_place],
      ["Tạm trú", "Temporary residence", c.temporary ? c.temporary.address + " — " + c.temporary_place : ""],
      ["Điện thoại", "Phone", c.phone],
      ["Số CMND cũ", "Legacy ID", c.legacy_id],
      ["Mã hộ", "Household", c.household_id],
      ["Tình trạng", "Status", c.status === "alive" ? "Còn sống / Alive" : "Đã mất / Deceased"],
    ]));
    if (res.data.citizen) {
      const same = res.data.card_matches_registry;
      box.append(VT.el("p", { id: "card-check" }, same
        ? "Thẻ khớp với CSDL dân cư / Card matches the registry"
        : "Thẻ KHÔNG khớp ở: " + res.data.mismatched.join(", ") + " / Card differs from the registry"));
    }
  });
});
