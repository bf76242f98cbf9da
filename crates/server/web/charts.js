"use strict";
// Number formats and small hand-written SVG charts for the analytics pages (no libraries).
// Every label goes in through textContent (VTC.svg appends text nodes), never as markup.
const VTC = {
  NS: "http://www.w3.org/2000/svg",
  counts: new Intl.NumberFormat("vi-VN"),
  percent: new Intl.NumberFormat("vi-VN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
  // 1163941 → "1.163.941"; null → "—".
  count(n) {
    return n === null || n === undefined ? "—" : VTC.counts.format(n);
  },
  // 0.97312 → "97,31 %"; null (no denominator) → "—".
  rate(r) {
    return r === null || r === undefined ? "—" : VTC.percent.format(r * 100) + " %";
  },
  svg(tag, attrs, ...children) {
    const e = document.createElementNS(VTC.NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  },
  // The page's query string as an object, and a link to this page with some keys changed.
  params() {
    return Object.fromEntries(new URLSearchParams(location.search));
  },
  link(changes) {
    const q = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === undefined || v === "") q.delete(k); else q.set(k, v);
    }
    return location.pathname + "?" + q.toString();
  },
  // Query string from an object, skipping empty values.
  query(obj) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(obj)) if (v !== null && v !== undefined && v !== "") q.set(k, v);
    return q.toString();
  },
  empty(svg, vi, en) {
    svg.replaceChildren(VTC.svg("text", { x: 10, y: 30, class: "muted" }, vi + " / " + en));
  },
  // Vertical bars (one per day) with an optional line of 0..1 values on a right-hand percent axis.
  // days: [{label, value}], lines: [{name, cls, values: [0..1 | null]}]
  dayBars(svg, days, lines, barName) {
    const W = 720, H = 240, L = 56, R = 48, T = 14, B = 28;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.replaceChildren();
    if (!days.length) return VTC.empty(svg, "Không có dữ liệu", "No data");
    const max = Math.max(1, ...days.map((d) => d.value));
    const w = Math.min((W - L - R) / days.length, 40), y = (v) => T + (H - T - B) * (1 - v / max);
    svg.append(VTC.svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }),
      VTC.svg("text", { x: L - 4, y: T + 10, class: "tick end" }, VTC.count(max)),
      VTC.svg("text", { x: L - 4, y: H - B, class: "tick end" }, "0"),
      VTC.svg("text", { x: L, y: H - 8, class: "tick" }, days[0].label),
      VTC.svg("text", { x: W - R, y: H - 8, class: "tick end" }, days[days.length - 1].label));
    days.forEach((d, i) => {
      const top = y(d.value);
      svg.append(VTC.svg("rect", { x: (L + i * w).toFixed(2), y: top.toFixed(2), width: Math.max(w - 0.5, 0.5).toFixed(2),
        height: (H - B - top).toFixed(2), class: "bar", "data-date": d.label, "data-value": d.value },
      VTC.svg("title", {}, d.label + ": " + VTC.count(d.value) + " " + barName)));
    });
    if (!lines || !lines.length) return;
    const py = (v) => T + (H - T - B) * (1 - v);
    svg.append(VTC.svg("text", { x: W - R + 4, y: T + 10, class: "tick" }, "100 %"),
      VTC.svg("text", { x: W - R + 4, y: H - B, class: "tick" }, "0 %"));
    for (const line of lines) {
      const pts = line.values.map((v, i) => (v === null ? null : `${(L + (i + 0.5) * w).toFixed(1)},${py(v).toFixed(1)}`))
        .filter((p) => p !== null);
      if (pts.length) svg.append(VTC.svg("polyline", { points: pts.join(" "), class: "line " + line.cls }, VTC.svg("title", {}, line.name)));
    }
  },
  // Horizontal bars: items [{label, value, text, cls}], value in 0..max.
  hbars(svg, items, max) {
    const W = 480, rowH = 26, L = 130, R = 120;
    const H = Math.max(rowH * items.length + 8, 40);
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.replaceChildren();
    if (!items.length) return VTC.empty(svg, "Không có dữ liệu", "No data");
    const top = max || Math.max(1, ...items.map((i) => i.value || 0));
    items.forEach((it, i) => {
      const y = 4 + i * rowH, w = ((W - L - R) * (it.value || 0)) / top;
      svg.append(VTC.svg("text", { x: L - 8, y: y + 17, class: "tick end" }, it.label),
        VTC.svg("rect", { x: L, y: y + 3, width: Math.max(w, 0).toFixed(2), height: rowH - 8, class: "bar " + (it.cls || ""),
          "data-key": it.key || it.label, "data-value": it.value === null ? "" : it.value }, VTC.svg("title", {}, it.label + ": " + it.text)),
        VTC.svg("text", { x: L + Math.max(w, 0) + 6, y: y + 17, class: "tick" }, it.text));
    });
  },
  // Groups of vertical bars on a 0..100 % axis: groups [{label, sub, bars: [{key, value 0..1 | null, cls, text}]}].
  groupBars(svg, groups) {
    const W = 480, H = 260, L = 44, T = 16, B = 44;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.replaceChildren();
    if (!groups.length) return VTC.empty(svg, "Không có dữ liệu", "No data");
    const gw = (W - L) / groups.length, y = (v) => T + (H - T - B) * (1 - v);
    svg.append(VTC.svg("line", { x1: L, y1: H - B, x2: W, y2: H - B, class: "axis" }),
      VTC.svg("text", { x: L - 4, y: T + 10, class: "tick end" }, "100 %"),
      VTC.svg("text", { x: L - 4, y: H - B, class: "tick end" }, "0 %"));
    groups.forEach((g, i) => {
      const x0 = L + i * gw, bw = (gw * 0.7) / g.bars.length;
      g.bars.forEach((b, j) => {
        const v = b.value === null || b.value === undefined ? 0 : Math.min(Math.max(b.value, 0), 1), top = y(v);
        const x = x0 + gw * 0.15 + j * bw;
        svg.append(VTC.svg("rect", { x: x.toFixed(2), y: top.toFixed(2), width: (bw - 2).toFixed(2), height: (H - B - top).toFixed(2),
          class: "bar " + b.cls, "data-key": b.key, "data-value": b.value === null || b.value === undefined ? "" : b.value },
        VTC.svg("title", {}, g.label + " · " + b.text)),
        VTC.svg("text", { x: (x + bw / 2 - 1).toFixed(2), y: (top - 3).toFixed(2), class: "tick mid small" }, b.text));
      });
      svg.append(VTC.svg("text", { x: (x0 + gw / 2).toFixed(2), y: H - B + 16, class: "tick mid" }, g.label),
        VTC.svg("text", { x: (x0 + gw / 2).toFixed(2), y: H - B + 32, class: "tick mid en" }, g.sub || ""));
    });
  },
};
