"use strict";
// The health officer's tracing page: confirm a case, see its timeline, trace its contacts.
const KINDS = { checkin: "Vào địa điểm / Check-in", checkpoint_scan: "Qua chốt / Checkpoint", declaration: "Khai báo / Declaration",
                venue: "Cùng địa điểm / Same venue", household: "Cùng hộ / Household" };
document.addEventListener("DOMContentLoaded", async () => {
  const me = await VT.nav();
  if (!me) return (location.href = "/login?next=/cases");
  const $ = (id) => document.getElementById(id);
  const box = $("result");
  const time = (t) => (t ? new Date(t).toLocaleString("vi-VN") : "");
  const caseId = () => encodeURIComponent($("case_id").value.trim());
  function contacts(list) {
    const rows = $("contacts").tBodies[0];
    rows.replaceChildren();
    for (const c of list) {
      const evidence = c.evidence.map((e) => e.venue_name + " (" + e.overlap_minutes + "′)").join("; ");
      rows.append(VT.el("tr", { "data-level": c.level }, VT.el("td", {}, "F" + c.level), VT.el("td", {}, c.personal_id),
        VT.el("td", {}, KINDS[c.kind] || c.kind), VT.el("td", {}, time(c.exposed_at)), VT.el("td", {}, c.overlap_minutes),
        VT.el("td", {}, c.place), VT.el("td", {}, evidence)));
    }
  }
  async function open() {
    const res = await VT.api("/api/v1/cases/" + caseId() + "/timeline");
    if (!res.ok) return VT.error(box, res);
    box.className = "result";
    box.replaceChildren(VT.el("p", { id: "window" }, "Cửa sổ lây nhiễm / Infectious window: " + time(res.data.from) + " → " + time(res.data.to)));
    const rows = $("timeline").tBodies[0];
    rows.replaceChildren();
    for (const e of res.data.entries) {
      rows.append(VT.el("tr", {}, VT.el("td", {}, time(e.at)), VT.el("td", {}, time(e.until)), VT.el("td", {}, KINDS[e.kind] || e.kind),
        VT.el("td", {}, e.place), VT.el("td", {}, e.detail)));
    }
    const stored = await VT.api("/api/v1/cases/" + caseId() + "/contacts");
    if (stored.ok) contacts(stored.data);
  }
  $("confirm-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { test_id: Number($("test_id").value), onset_on: $("onset_on").value.trim() || null };
    const res = await VT.api("/api/v1/cases", body);
    if (!res.ok) return VT.error(box, res);
    $("case_id").value = res.data.case_id;
    await open();
  });
  $("case-form").addEventListener("submit", (ev) => { ev.preventDefault(); open(); });
  $("trace").addEventListener("click", async () => {
    const res = await VT.api("/api/v1/cases/" + caseId() + "/trace", {});
    if (!res.ok) return VT.error(box, res);
    box.className = "result";
    box.replaceChildren(VT.el("p", { id: "traced" }, "F1: " + res.data.f1 + " · F2: " + res.data.f2));
    contacts(res.data.contacts);
  });
  const given = new URLSearchParams(location.search).get("case");
  if (given) { $("case_id").value = given; await open(); }
});
