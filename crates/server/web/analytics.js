"use strict";
// The coverage dashboard. Its state is the query string (?area=91&date=2021-11-23&basis=residence,
// plus trail=91,899: the ancestors the user drilled down through, for the breadcrumb), so every
// drill-down is a plain link. The API scopes everything to the user's jurisdiction.
const VACCINES = {
  "EU/1/21/1529": "AstraZeneca", "EU/1/20/1528": "Pfizer-BioNTech", "EU/1/20/1507": "Moderna",
  "BBIBP-CorV": "Sinopharm", "Sputnik-V": "Sputnik V", "Abdala": "Abdala", "Hayat-Vax": "Hayat-Vax",
  "EU/1/20/1525": "Janssen",
};
const BANDS = ["under_12", "age_12_17", "adults", "age_65_plus"];
// Map classes: lower bounds of the adult rate, and their colours (light to dark green).
const CLASSES = [[0, "#f1eef6"], [0.5, "#d7e8c4"], [0.7, "#a6d49a"], [0.8, "#66b86a"], [0.9, "#2e9148"], [0.95, "#0b5d2a"]];
const CAMPAIGN_START = "2021-03-08"; // the API refuses days before it

const $ = (id) => document.getElementById(id);
const set = (id, text) => { $(id).textContent = text; };
const addDays = (day, n) => new Date(Date.parse(day + "T00:00:00Z") + n * 86400000).toISOString().slice(0, 10);
const api = (path, params) => VT.api(path + "?" + VTC.query(params));

// The area's ancestors [{code, name}] (province, district), from the trail or the user's own
// jurisdiction, each checked against the administrative units.
async function lineage(area, trail, me) {
  if (area.code === "VN" || area.level === "province") return [];
  const children = async (code) => {
    const res = await VT.api("/api/v1/admin-units" + (code ? "?parent=" + encodeURIComponent(code) : ""));
    return res.ok ? res.data.units : [];
  };
  const chain = trail.length ? trail : [me.jurisdiction].filter((c) => /^\d{2,3}$/.test(c) && c !== area.code);
  const out = [];
  let list = await children("");
  for (const code of chain) {
    const unit = list.find((u) => u.code === code);
    if (!unit) return [];
    out.push(unit);
    list = await children(code);
  }
  if (area.level === "commune" && out.length === 1) { // only the province known: find the district
    const lists = await Promise.all(list.map((d) => children(d.code)));
    const i = lists.findIndex((l) => l.some((c) => c.code === area.code));
    if (i < 0) return [];
    out.push(list[i]);
    list = lists[i];
  }
  return list.some((u) => u.code === area.code) ? out : [];
}

function colour(rate) {
  if (rate === null || rate === undefined) return "#d9d9d9";
  let c = CLASSES[0][1];
  for (const [from, col] of CLASSES) if (rate >= from) c = col;
  return c;
}

let provinces = null; // the GeoJSON, fetched once
async function drawMap(data, metric, drill) {
  const svg = $("map");
  if (!provinces) {
    const res = await fetch("/static/vendor/geo/provinces.geojson");
    provinces = await res.json();
  }
  const nation = data.area.code === "VN";
  const rates = new Map();
  for (const u of nation ? data.units : [data.total]) {
    const r = metric === "full" ? u.rate_full : u.rate_dose1;
    rates.set(u.code, r ? r.adults : null);
  }
  // Equirectangular projection, longitudes shrunk by cos(mid latitude).
  let [x0, y0, x1, y1] = [180, 90, -180, -90];
  const rings = (g) => (g.type === "Polygon" ? g.coordinates : g.coordinates.flat());
  for (const f of provinces.features) for (const ring of rings(f.geometry)) for (const [x, y] of ring) {
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  const k = Math.cos(((y0 + y1) / 2) * Math.PI / 180), W = 560, s = W / ((x1 - x0) * k), H = (y1 - y0) * s;
  svg.setAttribute("viewBox", `-4 -4 ${W + 8} ${(H + 8).toFixed(0)}`);
  svg.replaceChildren();
  for (const f of provinces.features) {
    const code = f.properties.code;
    const d = rings(f.geometry).map((ring) => "M" + ring.map(([x, y]) =>
      ((x - x0) * k * s).toFixed(1) + "," + ((y1 - y) * s).toFixed(1)).join("L") + "Z").join("");
    const shown = nation || code === data.area.code;
    const rate = shown ? rates.get(code) : undefined;
    const path = VTC.svg("path", { d, "fill-rule": "evenodd", fill: shown ? colour(rate) : "#e1e5ea",
      class: "province" + (!nation && shown ? " current" : ""), "data-code": code, "data-rate": rate === undefined || rate === null ? "" : rate },
    VTC.svg("title", {}, f.properties.name + (shown ? ": " + VTC.rate(rate) : "")));
    svg.append(nation ? VTC.svg("a", { href: drill(code, []) }, path) : path);
  }
  const legend = $("map-legend");
  legend.replaceChildren();
  const swatch = (col) => {
    const e = VT.el("span", { class: "swatch" });
    e.style.background = col;
    return e;
  };
  CLASSES.forEach(([from, col], i) => {
    const to = CLASSES[i + 1] ? CLASSES[i + 1][0] : null;
    legend.append(swatch(col), (to === null ? "≥ " + VTC.rate(from) : VTC.rate(from) + " – " + VTC.rate(to)) + " ");
  });
  legend.append(swatch(colour(null)), "Không có số liệu / No data");
}

function headline(t) {
  const people = (c, key) => (c ? c[key] : null);
  set("headline-population", VTC.count(people(t.population, "all")));
  set("headline-adults", VTC.count(people(t.population, "adults")));
  set("headline-dose1", VTC.count(people(t.dose1, "all")));
  set("headline-dose1-rate", VTC.rate(people(t.rate_dose1, "adults")));
  set("headline-full", VTC.count(people(t.full, "all")));
  set("headline-full-rate", VTC.rate(people(t.rate_full, "adults")));
  set("headline-booster", VTC.count(people(t.booster, "all")));
  set("headline-booster-rate", VTC.rate(people(t.rate_booster, "adults")));
  set("headline-doses", VTC.count(t.doses.total));
  const by = t.doses.by_dose || {};
  set("headline-by-dose", ["1", "2", "3"].map((n) => VTC.count(by[n] || 0)).join(" / "));
}

function charts(data) {
  const t = data.total;
  const bands = data.age_rule && data.age_rule.bands ? data.age_rule.bands : [];
  VTC.groupBars($("chart-ages"), t.population ? BANDS.map((code) => {
    const band = bands.find((b) => b.code === code) || { label_vi: code, label_en: code };
    const bar = (key, rates, cls) => ({ key: code + ":" + key, cls, value: rates ? rates[code] : null, text: VTC.rate(rates ? rates[code] : null) });
    return { label: band.label_vi, sub: band.label_en, bars: [bar("dose1", t.rate_dose1, "dose1"), bar("full", t.rate_full, "full")] };
  }) : []);
  if (data.age_rule) {
    const range = (b) => (b.born_from || "…") + " – " + (b.born_to || "…");
    set("age-rule", "Quy tắc nhóm tuổi / Age rule " + data.age_rule.version + ": " +
      bands.map((b) => b.label_vi + " / " + b.label_en + " (" + range(b) + ")").join("; "));
  }
  const mix = Object.entries(t.doses.by_vaccine || {}).sort((a, b) => b[1] - a[1]);
  VTC.hbars($("chart-vaccines"), mix.map(([code, n]) => ({ key: code, label: VACCINES[code] || code, value: n,
    text: VTC.count(n) + " (" + VTC.rate(t.doses.total ? n / t.doses.total : null) + ")" })), t.doses.total);
}

async function series(data) {
  const from = [CAMPAIGN_START, addDays(data.date, -365)].sort()[1];
  const res = await api("/api/v1/coverage/series", { area: data.area.code, from, to: data.date, basis: data.basis });
  if (!res.ok) return res;
  const pop = res.data.population ? res.data.population.all : 0;
  const share = (key) => res.data.days.map((d) => (pop ? d[key] / pop : null));
  const lines = pop ? [{ name: "Mũi 1 / Dose 1", cls: "dose1", values: share("cum_dose1") },
    { name: "Đủ liều / Full", cls: "full", values: share("cum_full") }] : [];
  VTC.dayBars($("chart-days"), res.data.days.map((d) => ({ label: d.date, value: d.doses })), lines, "mũi / doses");
  return res;
}

function units(data, drill, ancestors) {
  const body = $("units").tBodies[0];
  body.replaceChildren();
  const trail = data.area.code === "VN" ? [] : [...ancestors.map((a) => a.code), data.area.code];
  const cell = (v) => VT.el("td", { class: "num" }, v);
  for (const u of data.units) {
    const c = (counts) => VTC.count(counts ? counts.all : null);
    const r = (rates) => VTC.rate(rates ? rates.adults : null);
    body.append(VT.el("tr", { "data-code": u.code }, VT.el("td", {}, u.code),
      VT.el("td", {}, VT.el("a", { href: drill(u.code, trail) }, u.name)),
      cell(c(u.population)), cell(c(u.dose1)), cell(r(u.rate_dose1)), cell(c(u.full)), cell(r(u.rate_full)),
      cell(c(u.booster)), cell(r(u.rate_booster)), cell(VTC.count(u.doses ? u.doses.total : null))));
  }
  if (!data.units.length) {
    body.append(VT.el("tr", {}, VT.el("td", { colspan: 10 }, "Không có đơn vị trực thuộc / No units below this one")));
  }
}

async function lowest(data, drill, ancestors) {
  const res = await api("/api/v1/coverage/lowest", { area: data.area.code, date: data.date, metric: "dose1", limit: 10 });
  if (!res.ok) return res;
  const list = $("lowest");
  list.replaceChildren();
  const province = data.area.level === "province" ? data.area.code : (ancestors[0] || {}).code;
  for (const u of res.data.units) {
    const trail = province && u.district ? [province, u.district.code] : [];
    list.append(VT.el("li", { "data-code": u.code }, VT.el("a", { href: drill(u.code, trail) }, u.name),
      u.district ? " (" + u.district.name + ")" : "", " — ", VT.el("strong", {}, VTC.rate(u.rate)),
      " · " + VTC.count(u.count) + " / " + VTC.count(u.population)));
  }
  if (!res.data.units.length) list.append(VT.el("li", {}, "Không có số liệu / No data"));
  return res;
}

async function due(data) {
  const res = await api("/api/v1/coverage/due", { area: data.area.code, date: data.date });
  if (!res.ok) return res;
  set("due-total", "Tổng / Total: " + VTC.count(res.data.total.due_dose) + " mũi cơ bản / primary doses · " +
    VTC.count(res.data.total.due_booster) + " mũi nhắc lại / boosters");
  const body = $("due").tBodies[0];
  body.replaceChildren();
  for (const u of res.data.units) {
    body.append(VT.el("tr", { "data-code": u.code }, VT.el("td", {}, u.name),
      VT.el("td", { class: "num" }, VTC.count(u.due_dose)), VT.el("td", { class: "num" }, VTC.count(u.due_booster))));
  }
  return res;
}

document.addEventListener("DOMContentLoaded", async () => {
  const me = await VT.nav();
  if (!me) return (location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search));
  const box = $("result");
  const p = VTC.params();
  const trail = (p.trail || "").split(",").filter((c) => /^\d{2,3}$/.test(c));
  const basis = p.basis === "site" ? "site" : "residence";
  const res = await api("/api/v1/coverage", { area: p.area, date: p.date, basis });
  if (!res.ok) return VT.error(box, res);
  const data = res.data;
  const drill = (code, via) => "/analytics?" + VTC.query({ area: code, trail: via.join(","), date: data.date, basis: data.basis });
  const ancestors = await lineage(data.area, trail, me);

  // Breadcrumb: nation → province → district → commune; levels above the user's jurisdiction are plain text.
  const crumbs = [{ code: "VN", name: "Toàn quốc / Nation" }, ...ancestors];
  if (data.area.code !== "VN") crumbs.push(data.area);
  const mine = crumbs.findIndex((c) => c.code === me.jurisdiction);
  const nav = $("breadcrumb");
  crumbs.forEach((c, i) => {
    if (i) nav.append(" › ");
    const last = i === crumbs.length - 1;
    nav.append(last || mine < 0 || i < mine ? VT.el("span", { "data-code": c.code }, c.name)
      : VT.el("a", { href: drill(c.code, crumbs.slice(1, i).map((a) => a.code)), "data-code": c.code }, c.name));
  });
  set("area-name", data.area.code === "VN" ? "Toàn quốc / Nation" : data.area.name);
  $("area").value = data.area.code;
  $("trail").value = ancestors.map((a) => a.code).join(",");
  $("date").value = data.date;
  $("basis").value = data.basis;
  $("basis").addEventListener("change", () => $("filters").requestSubmit());
  $("basis-note").hidden = data.basis !== "site";
  const exportUrl = "/api/v1/coverage?" + VTC.query({ area: data.area.code, date: data.date, basis: data.basis });
  $("export-csv").href = exportUrl + "&format=csv";
  $("export-parquet").href = exportUrl + "&format=parquet";

  headline(data.total);
  charts(data);
  units(data, drill, ancestors);
  if (data.area.code === "VN" || data.area.level === "province") {
    $("map-section").hidden = false;
    const metric = $("map-metric");
    metric.value = p.metric === "full" ? "full" : "dose1";
    metric.addEventListener("change", () => {
      history.replaceState(null, "", VTC.link({ metric: metric.value === "full" ? "full" : null }));
      drawMap(data, metric.value, drill);
    });
    await drawMap(data, metric.value, drill);
  }
  const failed = (await Promise.all([series(data), lowest(data, drill, ancestors), due(data)])).find((r) => !r.ok);
  if (failed) return VT.error(box, failed);
  document.body.dataset.ready = "1"; // for tests: every part has loaded
});
