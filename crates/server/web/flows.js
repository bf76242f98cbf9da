"use strict";
// Origin → destination matrix of travel declarations (checkpoint scans beside them), declarations
// per day, and arrivals from outbreak areas. State is the query string (?area=VN&level=province&from=…&to=…).
document.addEventListener("DOMContentLoaded", async () => {
  const me = await VT.nav();
  if (!me) return (location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search));
  const $ = (id) => document.getElementById(id);
  const p = VTC.params();
  const params = { area: p.area, level: p.level, from: p.from, to: p.to };
  const res = await VT.api("/api/v1/analytics/flows?" + VTC.query(params));
  if (!res.ok) return VT.error($("result"), res);
  const data = res.data;
  $("area-name").textContent = data.from + " → " + data.to;
  $("area").value = p.area || "";
  $("level").value = data.level;
  $("from").value = data.from;
  $("to").value = data.to;
  $("export-csv").href = "/api/v1/analytics/flows?" + VTC.query({ ...params, level: data.level, from: data.from, to: data.to }) + "&format=csv";

  // Rows and columns ordered by their totals, largest first.
  const totals = (side) => {
    const m = new Map();
    for (const f of data.flows) {
      const u = f[side], t = m.get(u.code) || { code: u.code, name: u.name, n: 0 };
      t.n += f.declarations;
      m.set(u.code, t);
    }
    return [...m.values()].sort((a, b) => b.n - a.n || a.code.localeCompare(b.code));
  };
  const origins = totals("origin"), dests = totals("destination");
  const cell = new Map(data.flows.map((f) => [f.origin.code + ">" + f.destination.code, f]));
  const head = VT.el("tr", {}, VT.el("th", {}, "Nơi đi ↓ / Nơi đến → ", VT.el("span", { class: "en", lang: "en" }, "From ↓ / To →")));
  for (const d of dests) head.append(VT.el("th", { "data-code": d.code }, d.name));
  head.append(VT.el("th", {}, "Tổng / Total"));
  $("matrix").tHead.replaceChildren(head);
  const body = $("matrix").tBodies[0];
  body.replaceChildren();
  for (const o of origins) {
    const tr = VT.el("tr", { "data-code": o.code }, VT.el("th", {}, o.name));
    for (const d of dests) {
      const f = cell.get(o.code + ">" + d.code);
      tr.append(f ? VT.el("td", { class: "num", "data-origin": o.code, "data-destination": d.code, "data-declarations": f.declarations },
        VTC.count(f.declarations), VT.el("span", { class: "muted" }, " (" + VTC.count(f.scans) + ")")) : VT.el("td", { class: "num muted" }, "·"));
    }
    tr.append(VT.el("td", { class: "num" }, VT.el("strong", {}, VTC.count(o.n))));
    body.append(tr);
  }
  if (!origins.length) body.append(VT.el("tr", {}, VT.el("td", {}, "Không có khai báo / No declarations")));
  VTC.dayBars($("chart-flows"), data.days.map((d) => ({ label: d.date, value: d.declarations })), [], "khai báo / declarations");
  const list = $("arrivals");
  list.replaceChildren(...data.outbreak_arrivals.map((a) => VT.el("li", { "data-code": a.code }, a.name + " — " + VTC.count(a.count))));
  if (!data.outbreak_arrivals.length) list.append(VT.el("li", {}, "Không có / None"));
  document.body.dataset.ready = "1";
});
