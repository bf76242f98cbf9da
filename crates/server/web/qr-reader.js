"use strict";
// Reads QR codes in the page with jsQR: from the back camera (frames every 200 ms until a code is
// found) or from a chosen picture. Shared by the certificate scanner and the checkpoint page.
const VTQR = {
  MAX_SIDE: 1280,
  decode(canvas, source, width, height) {
    const scale = Math.min(1, VTQR.MAX_SIDE / Math.max(width, height));
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
    const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const code = jsQR(img.data, img.width, img.height, { inversionAttempts: "attemptBoth" });
    return code ? code.data : null;
  },
  // els: {camera, stop, video, picture, canvas, note}; onText(text) gets each code read.
  attach(els, onText) {
    let stream = null, timer = null;
    const say = (text) => { els.note.textContent = text; };
    const stopCamera = () => {
      if (timer) clearInterval(timer);
      if (stream) stream.getTracks().forEach((t) => t.stop());
      stream = timer = null;
      els.video.hidden = els.stop.hidden = true;
    };
    els.picture.addEventListener("change", async (ev) => {
      const file = ev.target.files[0];
      if (!file) return;
      say("");
      try {
        const bitmap = await createImageBitmap(file);
        const text = VTQR.decode(els.canvas, bitmap, bitmap.width, bitmap.height);
        if (!text) return say("Không tìm thấy mã QR trong ảnh / No QR code found in the picture");
        await onText(text);
      } catch (_) {
        say("Không đọc được ảnh / The picture cannot be read");
      }
      ev.target.value = "";
    });
    els.camera.addEventListener("click", async () => {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        return say("Trình duyệt không cho dùng camera; hãy chọn ảnh / The browser offers no camera; choose a picture");
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      } catch (_) {
        return say("Không mở được camera / The camera cannot be opened");
      }
      els.video.srcObject = stream;
      els.video.hidden = els.stop.hidden = false;
      await els.video.play();
      say("Đưa mã QR vào khung hình / Hold the QR code in view");
      timer = setInterval(async () => {
        if (!els.video.videoWidth) return;
        const text = VTQR.decode(els.canvas, els.video, els.video.videoWidth, els.video.videoHeight);
        if (text) { stopCamera(); say(""); await onText(text); }
      }, 200);
    });
    els.stop.addEventListener("click", stopCamera);
  },
  // The reader's elements by the ids every scanning page uses.
  elements() {
    const $ = (id) => document.getElementById(id);
    return { camera: $("camera"), stop: $("camera-stop"), video: $("video"), picture: $("picture"), canvas: $("frame"), note: $("scan-note") };
  },
};
