"use strict";
// The venue owner's page: register a venue, list mine with links to the printable poster.
document.addEventListener("DOMContentLoaded", async () => {
  const me = await VT.nav();
  if (!me) return (location.href = "/login?next=/venues");
  const $ = (id) => document.getElementById(id);
  const box = $("result");
  async function refresh() {
    const res = await VT.api("/api/v1/venues");
    const rows = $("venues").tBodies[0];
    rows.replaceChildren();
    if (!res.ok) return VT.error(box, res);
    for (const v of res.data) {
      const links = VT.el("td", {}, VT.el("a", { href: "/api/v1/venues/" + v.id + "/poster.html", target: "_blank" }, "HTML"), " · ",
                                    VT.el("a", { href: "/api/v1/venues/" + v.id + "/poster.png", class: "poster-png" }, "PNG"));
      rows.append(VT.el("tr", { "data-venue": v.id }, VT.el("td", {}, v.id), VT.el("td", {}, v.name),
        VT.el("td", {}, v.kind_vi + " / " + v.kind_en), VT.el("td", {}, v.address + ", " + v.place), links));
    }
  }
  await VT.unitPicker($("venue-picker"), $("commune_code"));
  $("venue-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { name: $("name").value, kind: $("kind").value, commune_code: $("commune_code").value, address: $("address").value };
    const res = await VT.api("/api/v1/venues", body);
    if (!res.ok) return VT.error(box, res);
    box.className = "result valid";
    box.replaceChildren(VT.el("p", { id: "registered" }, "Đã đăng ký / Registered: " + res.data.name + " (#" + res.data.id + ")"));
    await refresh();
  });
  await refresh();
});
