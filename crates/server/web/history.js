"use strict";
// A citizen's colour, the rule version that produced it, and every dose with whether it counted.
const COLOURS = { green: ["XANH", "GREEN"], yellow: ["VÀNG", "YELLOW"], none: ["CHƯA TIÊM", "NONE"] };

document.addEventListener("DOMContentLoaded", async () => {
  const me = await VT.nav();
  if (!me) return (location.href = "/login?next=/history");
  const form = document.getElementById("history-form");
  const box = document.getElementById("result");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const q = form.query.value.trim();
    const res = q.includes("|")
      ? await VT.api("/api/v1/citizens/status-by-qr", { qr: q })
      : await VT.api("/api/v1/citizens/" + encodeURIComponent(q) + "/status");
    if (!res.ok) return VT.error(box, res);
    const s = res.data;
    const [vi, en] = COLOURS[s.colour];
    box.className = "result ok";
    box.replaceChildren(
      VT.el("p", { id: "colour", class: "badge " + s.colour }, vi + " / " + en),
      VT.el("p", {}, "Quy tắc / Rule: ", VT.el("code", { id: "rule" }, s.rule_version)));
    if (!s.details) return;
    const d = s.details;
    box.append(VT.el("p", { id: "reason" }, d.status.reason_vi + " / " + d.status.reason_en));
    if (d.awaiting_signature) box.append(VT.el("p", { class: "warn" }, d.awaiting_signature + " mũi chờ UBND xã ký / dose(s) awaiting the commune's signature"));
    for (const f of d.status.flags) box.append(VT.el("p", { class: "warn flag" }, "Cảnh báo / Flag: " + f.kind + " (#" + f.record_id + ")"));
    const table = VT.el("table", { class: "grid", id: "doses" }, VT.el("thead", {}, VT.el("tr", {},
      ...["Ngày / Date", "Vắc xin / Vaccine", "Mũi / Dose", "Lô / Lot", "Đã ký / Signed", "Được tính / Counted"].map((h) => VT.el("th", {}, h)))));
    table.append(VT.el("tbody", {}, ...d.doses.map((x) => VT.el("tr", {},
      VT.el("td", {}, x.administered_at.slice(0, 10)), VT.el("td", {}, x.vaccine_name), VT.el("td", {}, x.dose_number),
      VT.el("td", {}, x.lot || ""), VT.el("td", {}, x.signed ? "✓" : "—"), VT.el("td", {}, x.counted ? "✓" : "—")))));
    box.append(table);
    if (d.doses.some((x) => x.signed)) {
      const id = q.split("|")[0];
      box.append(VT.el("p", {}, VT.el("a", { id: "print-certificate", href: "/api/v1/citizens/" + encodeURIComponent(id) + "/certificate.html", target: "_blank", rel: "noopener" },
        VT.bi("In chứng nhận tiêm chủng (EU DCC)", "Print the vaccination certificate (EU DCC)"))));
    }
  });
});
