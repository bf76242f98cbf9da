"use strict";
// Reads an EU DCC QR code (camera frames or a picture, decoded in the page with jsQR), sends the
// text to the server, and shows the verdict of every verification step in both languages.
const STEPS = {
  prefix: ["Tiền tố HC1", "HC1 prefix"], base45: ["Mã Base45", "Base45"], zlib: ["Giải nén", "zlib"],
  cose: ["Cấu trúc COSE", "COSE structure"], cwt: ["Thông tin CWT", "CWT claims"],
  payload: ["Nội dung chứng nhận", "Certificate content"], kid_lookup: ["Khóa ký trong danh sách tin cậy", "Signer in the trust list"],
  signature: ["Chữ ký số", "Signature"], key_usage: ["Khóa được phép ký loại này", "Key usage"],
  expiry: ["Thời hạn", "Validity period"], revocation: ["Chưa bị thu hồi", "Not revoked"],
};
const TYPES = { vaccination: ["Tiêm chủng", "Vaccination"], test: ["Xét nghiệm", "Test"], recovery: ["Khỏi bệnh", "Recovery"] };
const MAX_SIDE = 1280;

function decodePixels(canvas, source, width, height) {
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
  const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const code = jsQR(img.data, img.width, img.height, { inversionAttempts: "attemptBoth" });
  return code ? code.data : null;
}

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
  const note = document.getElementById("scan-note");
  const canvas = document.getElementById("frame");
  const video = document.getElementById("video");
  const stopButton = document.getElementById("camera-stop");
  let stream = null, timer = null;

  async function check(text) {
    form.qr.value = text;
    const res = await VT.api("/api/v1/dcc/verify", { qr: text.trim() });
    if (!res.ok) return VT.error(box, res);
    show(box, res.data);
  }
  function stopCamera() {
    if (timer) clearInterval(timer);
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = timer = null;
    video.hidden = stopButton.hidden = true;
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); if (form.qr.value.trim()) check(form.qr.value); });
  document.getElementById("picture").addEventListener("change", async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    note.textContent = "";
    try {
      const bitmap = await createImageBitmap(file);
      const text = decodePixels(canvas, bitmap, bitmap.width, bitmap.height);
      if (!text) return (note.textContent = "Không tìm thấy mã QR trong ảnh / No QR code found in the picture");
      await check(text);
    } catch (_) {
      note.textContent = "Không đọc được ảnh / The picture cannot be read";
    }
  });
  document.getElementById("camera").addEventListener("click", async () => {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      note.textContent = "Trình duyệt không cho dùng camera; hãy chọn ảnh / The browser offers no camera; choose a picture";
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (_) {
      note.textContent = "Không mở được camera / The camera cannot be opened";
      return;
    }
    video.srcObject = stream;
    video.hidden = stopButton.hidden = false;
    await video.play();
    note.textContent = "Đưa mã QR vào khung hình / Hold the QR code in view";
    timer = setInterval(async () => {
      if (!video.videoWidth) return;
      const text = decodePixels(canvas, video, video.videoWidth, video.videoHeight);
      if (text) { stopCamera(); note.textContent = ""; await check(text); }
    }, 200);
  });
  stopButton.addEventListener("click", stopCamera);
});
