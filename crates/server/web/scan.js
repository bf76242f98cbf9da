"use strict";
// Reads an EU DCC QR code (qr-reader.js: camera or picture), sends the text to the server, and
// shows the verdict of every verification step in both languages.
const STEPS = {
  prefix: ["Tiền tố HC1", "HC1 prefix"], base45: ["Mã Base45", "Base45"], zlib: ["Giải nén", "zlib"],
  cose: ["Cấu trúc COSE", "COSE structure"], cwt: ["Thông tin CWT", "CWT claims"],
  payload: ["Nội dung chứng nhận", "Certificate content"], kid_lookup: ["Khóa ký trong danh sách tin cậy", "Signer in the trust list"],
  signature: ["Chữ ký số", "Signature"], key_usage: ["Khóa được phép ký loại này", "Key usage"],
  expiry: ["Thời hạn", "Validity period"], revocation: ["Chưa bị thu hồi", "Not revoked"],
};
const TYPES = { vaccination: ["Tiêm chủng", "Vaccination"], test: ["Xét nghiệm", "Test"], recovery: ["Khỏi bệnh", "Recovery"] };
function entryDetails(p) {
  const v = (p.v || [])[0], t = (p.t || [])[0], r = (p.r || [])[0];
  if (v) return [["Mũi", "Dose", v.dn + "/" + v.sd], ["Vắc xin", "Vaccine", v.mp], ["Ngày tiêm", "Date of vaccination", v.dt], ["Quốc gia", "Country", v.co], ["Mã chứng nhận", "Certificate ID", v.ci]];
  if (t) return [["Kết quả", "Result", t.tr === "260415000" ? "Âm tính / Not detected" : "Dương tính / Detected"], ["Lấy mẫu", "Sampled", t.sc], ["Nơi xét nghiệm", "Test centre", t.tc], ["Quốc gia", "Country", t.co], ["Mã chứng nhận", "Certificate ID", t.ci]];
  if (r) return [["Dương tính lần đầu", "First positive", r.fr], ["Hiệu lực", "Valid", r.df + " → " + r.du], ["Quốc gia", "Country", r.co], ["Mã chứng nhận", "Certificate ID", r.ci]];
  return [];
}

function show(box, v) {
  box.className = "result " + (v.valid ? "ok" : "bad");
  const failed = v.steps.find((s) => s.status === "failed");
  const verdict = v.valid ? "HỢP LỆ / VALID" : "KHÔNG HỢP LỆ / NOT VALID";
  box.replaceChildren(VT.el("p", { id: "verdict", class: "badge " + (v.valid ? "green" : "red") }, verdict));
  if (failed) {
    const [vi, en] = STEPS[failed.step] || [failed.step, failed.step];
    box.append(VT.el("p", { id: "failed-step" }, "Không đạt: " + vi + " / Failed: " + en), VT.el("p", { class: "en", lang: "en" }, failed.reason));
  }
  const p = v.payload;
  if (p && p.nam) {
    const [tvi, ten] = TYPES[v.dcc_type] || ["", ""];
    box.append(VT.list([
      ["Họ và tên", "Name", [p.nam.fn, p.nam.gn].filter(Boolean).join(" ")],
      ["Tên chuẩn hóa", "Standardised name", [p.nam.fnt, p.nam.gnt].filter(Boolean).join("<<")],
      ["Ngày sinh", "Date of birth", p.dob],
      ["Loại chứng nhận", "Certificate type", tvi && tvi + " / " + ten],
      ...entryDetails(p),
      ["Nước cấp", "Issuing country", v.claims && v.claims.iss],
    ]));
  }
  const steps = VT.el("ul", { id: "steps", class: "steps" });
  for (const s of v.steps) {
    const [vi, en] = STEPS[s.step] || [s.step, s.step];
    const mark = s.status === "passed" ? "✓" : s.status === "failed" ? "✗" : "–";
    steps.append(VT.el("li", { "data-step": s.step, "data-status": s.status }, mark + " " + vi + " / " + en + (s.reason ? " — " + s.reason : "")));
  }
  box.append(steps);
  box.scrollIntoView({ block: "start" });
}

document.addEventListener("DOMContentLoaded", async () => {
  const me = await VT.nav();
  if (!me) return (location.href = "/login?next=/scan");
  const form = document.getElementById("scan-form");
  const box = document.getElementById("result");
  async function check(text) {
    form.qr.value = text;
    const res = await VT.api("/api/v1/dcc/verify", { qr: text.trim() });
    if (!res.ok) return VT.error(box, res);
    show(box, res.data);
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); if (form.qr.value.trim()) check(form.qr.value); });
  VTQR.attach(VTQR.elements(), check);
});
