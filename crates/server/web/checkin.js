"use strict";
// Self check-in: the venue's poster code (scanned, from a picture, or from ?v=) plus the person's
// ID and birth date, checked against the registry by the server.
document.addEventListener("DOMContentLoaded", async () => {
  const me = await VT.nav();
  if (!me) return (location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search));
  const $ = (id) => document.getElementById(id);
  const box = $("result");
  const given = new URLSearchParams(location.search).get("v");
  if (given) $("venue_code").value = given;
  const body = () => ({ venue_code: $("venue_code").value.trim(), personal_id: $("personal_id").value.trim(), birth_date: $("birth_date").value.trim() });
  const time = (t) => new Date(t).toLocaleString("vi-VN");
  async function send(path, done) {
    const res = await VT.api(path, body());
    if (!res.ok) return VT.error(box, res);
    const r = res.data;
    box.className = "result valid";
    box.replaceChildren(VT.el("p", { id: "checkin-done", class: "verdict valid" }, done),
      VT.list([["Địa điểm", "Venue", r.venue_name], ["Vào lúc", "Checked in", time(r.checked_in_at)],
               [r.checked_out ? "Ra lúc" : "Dự kiến ra", r.checked_out ? "Checked out" : "Expected to leave", time(r.ends_at)]]));
  }
  $("checkin-form").addEventListener("submit", (ev) => { ev.preventDefault(); send("/api/v1/checkins", "ĐÃ VÀO / CHECKED IN"); });
  $("check-out").addEventListener("click", () => send("/api/v1/checkins/checkout", "ĐÃ RA / CHECKED OUT"));
  VTQR.attach(VTQR.elements(), (text) => { $("venue_code").value = text.trim(); $("personal_id").focus(); });
});
