"use strict";
// The signing page: what waits for the commune's signature, and signing a selection.
let pending = [];

// Per commune: linked records not yet signed, and records still to review.
async function loadCounts() {
  const res = await VT.api("/api/v1/vaccinations/counts");
  if (!res.ok) return;
  const by = new Map();
  for (const c of res.data) {
    const row = by.get(c.unit) || { unsigned: 0, review: 0 };
    if (c.decision === "auto" || c.decision === "confirmed") row.unsigned += c.unsigned;
    if (c.decision === "review" || c.decision === "unmatched") row.review += c.total;
    by.set(c.unit, row);
  }
  document.querySelector("#by-commune tbody").replaceChildren(...[...by].map(([unit, row]) =>
    VT.el("tr", {}, VT.el("td", {}, unit || "—"), VT.el("td", {}, row.unsigned), VT.el("td", {}, row.review))));
}

async function load() {
  await loadCounts();
  const res = await VT.api("/api/v1/signing/pending?limit=200");
  const box = document.getElementById("summary");
  if (!res.ok) return VT.error(box, res);
  pending = res.data;
  box.className = "result ok";
  box.replaceChildren(VT.el("p", { id: "waiting" }, "Chờ ký / Waiting for signature: " + pending.length));
  document.querySelector("#pending tbody").replaceChildren(...pending.map((r) => VT.el("tr", {},
    VT.el("td", {}, VT.el("input", { type: "checkbox", class: "pick", value: r.id, checked: "", "aria-label": "#" + r.id })),
    VT.el("td", {}, r.id), VT.el("td", {}, r.full_name), VT.el("td", {}, r.personal_id || ""),
    VT.el("td", {}, r.vaccine_code + " · " + r.dose_number), VT.el("td", {}, r.administered_at.slice(0, 10)),
    VT.el("td", {}, r.decision))));
}

async function sign() {
  const items = [...document.querySelectorAll(".pick:checked")].map((c) => {
    const r = pending.find((x) => x.id === Number(c.value));
    return { id: r.id, version: r.version };
  });
  const res = await VT.api("/api/v1/signing/sign", { items });
  const box = document.getElementById("result");
  if (!res.ok) return VT.error(box, res);
  box.className = "result ok";
  box.replaceChildren(VT.el("p", { id: "signed" }, "Đã ký / Signed: " + res.data.signed.length + " · bỏ qua / skipped: " + res.data.skipped.length));
  await load();
}

document.addEventListener("DOMContentLoaded", async () => {
  const me = await VT.nav();
  if (!me) return (location.href = "/login?next=/signing");
  document.getElementById("sign").addEventListener("click", sign);
  document.getElementById("select-all").addEventListener("change", (ev) => {
    for (const c of document.querySelectorAll(".pick")) c.checked = ev.target.checked;
  });
  await load();
});
