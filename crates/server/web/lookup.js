"use strict";
document.addEventListener("DOMContentLoaded", async () => {
  const me = await VT.nav();
  if (!me) return (location.href = "/login?next=/lookup");
  const form = document.getElementById("lookup-form");
  const box = document.getElementById("result");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const q = form.query.value.trim();
    const res = q.includes("|")
      ? await VT.api("/api/v1/citizens/lookup-qr", { qr: q })
      : await VT.api("/api/v1/citizens/" + encodeURIComponent(q));
    if (!res.ok) return VT.error(box, res);
    const c = res.data.citizen || res.data;
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
