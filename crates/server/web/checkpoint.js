"use strict";
// The checkpoint officer's page: a pass (VNP1:…) or a chip ID card QR, checked by the server,
// shown as one large colour verdict with what is needed to compare with the traveller.
const VERDICTS = {
  valid: ["HỢP LỆ", "VALID", "valid"], expired: ["HẾT HẠN", "EXPIRED", "bad"], revoked: ["ĐÃ THU HỒI", "REVOKED", "bad"],
  forged: ["KHÔNG HỢP LỆ", "FORGED", "bad"], not_yet_valid: ["CHƯA CÓ HIỆU LỰC", "NOT YET VALID", "bad"],
  no_declaration: ["CHƯA KHAI BÁO", "NO DECLARATION", "none"],
};
const COLOURS = { green: "Xanh / Green", yellow: "Vàng / Yellow", none: "Chưa tiêm / None" };

function show(box, r) {
  const [vi, en, kind] = VERDICTS[r.verdict] || [r.verdict, r.verdict, "bad"];
  box.className = "result";
  box.replaceChildren(VT.el("p", { id: "verdict", class: "verdict " + kind, "data-verdict": r.verdict }, vi + " / " + en));
  if (r.full_name) {
    const flag = (b) => (b ? "CÓ / YES" : "Không / No");
    box.append(VT.list([
      ["Họ và tên", "Name", r.full_name], ["Năm sinh", "Birth year", r.birth_year],
      ["4 số cuối CCCD", "Last 4 ID digits", r.id_hint], ["Nơi đi", "From", r.origin], ["Nơi đến", "To", r.destination],
      ["Ngày đi", "Travel date", r.travel_date], ["Tiêm chủng", "Vaccination", COLOURS[r.vaccination]],
      ["Có triệu chứng / tiếp xúc", "Symptoms or contact", flag(r.health_risk)],
      ["Từ vùng dịch", "From an outbreak area", flag(r.from_outbreak)],
      ["Đang cách ly", "Under quarantine", flag(r.quarantine)], ["Ca bệnh F0", "Confirmed case (F0)", flag(r.f0)],
      ["Hết hạn", "Expires", r.expires_at && new Date(r.expires_at).toLocaleString("vi-VN")],
    ]));
  }
  box.scrollIntoView({ block: "start" });
}

document.addEventListener("DOMContentLoaded", async () => {
  const me = await VT.nav();
  if (!me) return (location.href = "/login?next=/checkpoint");
  const select = document.getElementById("checkpoint");
  const box = document.getElementById("result");
  const list = await VT.api("/api/v1/checkpoints");
  for (const c of (list.ok ? list.data : [])) select.append(VT.el("option", { value: c.code }, c.name + " (" + c.code + ")"));
  async function check(text) {
    text = text.trim();
    document.getElementById("qr").value = text;
    const body = { checkpoint: select.value };
    if (text.includes("|")) body.chip_qr = text; else body.pass = text;
    const res = await VT.api("/api/v1/checkpoints/scan", body);
    if (!res.ok) return VT.error(box, res);
    show(box, res.data);
  }
  document.getElementById("checkpoint-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = document.getElementById("qr").value;
    if (text.trim()) check(text);
  });
  VTQR.attach(VTQR.elements(), check);
});
