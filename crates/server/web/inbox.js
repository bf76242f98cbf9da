"use strict";
// The commune police inbox: declarations of residents and arrivals, filtered, acknowledged, exported.
const ROUTES = { permanent: "Thường trú / Permanent", temporary: "Tạm trú / Temporary", destination: "Nơi đến / Destination" };
const TRANSPORT = { car: "Ô tô / Car", motorbike: "Xe máy / Motorbike", bus: "Xe khách / Bus", train: "Tàu hỏa / Train",
                    plane: "Máy bay / Plane", ship: "Tàu thủy / Ship", other: "Khác / Other" };
document.addEventListener("DOMContentLoaded", async () => {
  const me = await VT.nav();
  if (!me) return (location.href = "/login?next=/inbox");
  const $ = (id) => document.getElementById(id);
  const box = $("result");
  const provinces = await VT.api("/api/v1/admin-units");
  for (const p of (provinces.ok ? provinces.data.units : [])) $("origin_province").append(VT.el("option", { value: p.code }, p.full_name));
  const query = () => {
    const q = new URLSearchParams();
    const day = (id, end) => $(id).value && q.set(id, $(id).value + (end ? "T23:59:59+07:00" : "T00:00:00+07:00"));
    day("from", false); day("to", true);
    if ($("origin_province").value) q.set("origin_province", $("origin_province").value);
    for (const id of ["risk", "outbreak", "unread"]) if ($(id).checked) q.set(id, "true");
    return q.toString();
  };
  async function load() {
    const q = query();
    $("export").href = "/api/v1/declarations/inbox.csv" + (q ? "?" + q : "");
    const res = await VT.api("/api/v1/declarations/inbox" + (q ? "?" + q : ""));
    if (!res.ok) return VT.error(box, res);
    box.className = "result ok";
    if (!res.data.length) return box.replaceChildren(VT.el("p", { id: "empty" }, "Không có khai báo / No declarations"));
    const head = ["", "Ngày khai / Declared", "Lý do / Why", "Họ tên / Name", "Điện thoại / Phone", "Từ / From", "Đến / To", "Ngày đi / Date", "Phương tiện / Vehicle", "Cảnh báo / Flags", "Đã xử lý / Done"];
    const table = VT.el("table", { class: "grid", id: "inbox" }, VT.el("thead", {}, VT.el("tr", {}, ...head.map((h) => VT.el("th", {}, h)))));
    const body = VT.el("tbody");
    for (const e of res.data) {
      const d = e.declaration, x = e.details;
      const flags = [d.health_risk ? "Triệu chứng / Risk" : "", d.from_outbreak ? "Vùng dịch / Outbreak" : ""].filter(Boolean).join(", ");
      body.append(VT.el("tr", { "data-id": d.id },
        VT.el("td", {}, VT.el("input", { type: "checkbox", class: "pick", value: d.id, "aria-label": "Chọn / Select" })),
        VT.el("td", {}, new Date(d.submitted_at).toLocaleString("vi-VN")), VT.el("td", {}, e.routes.split(",").map((r) => ROUTES[r] || r).join("; ")),
        VT.el("td", {}, x.full_name), VT.el("td", {}, x.phone || ""), VT.el("td", {}, e.origin_name), VT.el("td", {}, e.destination_name),
        VT.el("td", {}, d.travel_date), VT.el("td", {}, (TRANSPORT[x.transport] || x.transport) + (x.vehicle ? " " + x.vehicle : "")), VT.el("td", {}, flags),
        VT.el("td", {}, e.acknowledged_at ? "✓ " + (e.acknowledged_by || "") : "—")));
    }
    table.append(body);
    box.replaceChildren(table);
  }
  $("inbox-form").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  $("ack").addEventListener("click", async () => {
    const ids = [...document.querySelectorAll("input.pick:checked")].map((c) => Number(c.value));
    if (!ids.length) return;
    const res = await VT.api("/api/v1/declarations/inbox/ack", { ids });
    if (!res.ok) return VT.error(box, res);
    await load();
  });
  await load();
});
