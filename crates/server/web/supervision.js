"use strict";
// Supervision of the review and signing work: units ranked worst first, and records signed per day.
// State is the query string (?area=91&level=commune&from=…&to=…).
document.addEventListener("DOMContentLoaded", async () => {
  const me = await VT.nav();
  if (!me) return (location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search));
  const $ = (id) => document.getElementById(id);
  const p = VTC.params();
  const res = await VT.api("/api/v1/analytics/supervision?" + VTC.query({ area: p.area, level: p.level, from: p.from, to: p.to }));
  if (!res.ok) return VT.error($("result"), res);
  const data = res.data;
  const one = new Intl.NumberFormat("vi-VN", { maximumFractionDigits: 1 });
  const num = (v) => (v === null || v === undefined ? "—" : one.format(v));
  $("area-name").textContent = (data.area.code === "VN" ? "Toàn quốc / Nation" : data.area.name) + " · " + data.from + " → " + data.to;
  $("area").value = data.area.code;
  $("level").value = p.level || "";
  $("from").value = data.from;
  $("to").value = data.to;
  const deeper = { province: "district", district: "commune" }[data.level];
  const row = (u, total) => VT.el("tr", total ? { class: "total" } : { "data-code": u.code },
    VT.el("td", {}, total ? "" : u.rank), VT.el("td", {}, total ? "" : u.code),
    VT.el("td", {}, total ? "Tổng / Total" : deeper
      ? VT.el("a", { href: "/supervision?" + VTC.query({ area: u.code, level: deeper, from: data.from, to: data.to }) }, u.name) : u.name),
    ...[VTC.count(u.waiting_review), VTC.count(u.signed), VTC.rate(u.auto_share), num(u.median_days_to_sign),
      VTC.count(u.corrections_requested), VTC.count(u.corrections_handled), VTC.count(u.corrections_open),
      num(u.median_hours_to_handle), num(u.lag_score)].map((v) => VT.el("td", { class: "num" }, v)));
  const body = $("units").tBodies[0];
  body.replaceChildren(...data.units.map((u) => row(u, false)));
  if (!data.units.length) body.append(VT.el("tr", {}, VT.el("td", { colspan: 12 }, "Không có đơn vị / No units")));
  $("units").tFoot.replaceChildren(row(data.total, true));
  VTC.dayBars($("chart-signed"), data.days.map((d) => ({ label: d.date, value: d.signed })), [], "bản ghi đã ký / signed");
  document.body.dataset.ready = "1";
});
