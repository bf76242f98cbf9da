"use strict";
// The citizen app (/app/): one page, hash routes (#/login, #/home, …). Sign-up and log-in with a
// one-time code, then the health card, declaration, venue check-in, history, household and privacy
// of the person chosen in the switcher (the account holder or a household member). Everything is
// rendered with textContent (VT.el); the session is the HttpOnly cookie the verify call sets.
const CITIZEN = (() => {
  const $ = (id) => document.getElementById(id);
  const el = VT.el;
  const bi = VT.bi;
  const PUBLIC = new Set(["login", "signup", "otp"]);
  const COLOURS = { green: ["Xanh", "Green"], yellow: ["Vàng", "Yellow"], none: ["Chưa tiêm", "None"] };
  const RELATIONS = {
    self: ["Bản thân", "Self"], child: ["Con", "Child"], parent: ["Cha, mẹ", "Parent"], spouse: ["Vợ, chồng", "Spouse"],
    grandparent: ["Ông, bà", "Grandparent"], sibling: ["Anh, chị, em", "Sibling"], other: ["Khác", "Other"],
  };
  const TEST_KINDS = { pcr: ["RT-PCR", "RT-PCR"], rapid_antigen: ["Test nhanh kháng nguyên", "Rapid antigen test"] };
  const TEST_RESULTS = { positive: ["Dương tính", "Positive"], negative: ["Âm tính", "Negative"], inconclusive: ["Không xác định", "Inconclusive"] };
  const QUARANTINE = { home: ["Cách ly tại nhà", "Home quarantine"], facility: ["Cách ly tập trung", "Facility quarantine"] };
  const PURPOSES = {
    movement_control: ["Kiểm soát di chuyển", "Movement control"], contact_tracing: ["Truy vết tiếp xúc", "Contact tracing"],
    vaccination: ["Tiêm chủng", "Vaccination"], certificate: ["Cấp chứng nhận", "Certificate"], retention: ["Xóa theo thời hạn lưu", "Retention purge"],
    quarantine: ["Cách ly", "Quarantine"], identity_verification: ["Xác minh danh tính", "Identity verification"],
    citizen_app: ["Ứng dụng công dân", "Citizen app"], citizen_self_service: ["Tự tra cứu trên ứng dụng", "Own use of the app"], citizen_account: ["Tài khoản ứng dụng công dân", "Citizen app account"],
    correction: ["Sửa sai sót", "Correction"],
  };
  const ACTIONS = {
    "citizen.read": ["Tra cứu thông tin dân cư", "Looked up the registry record"], "identity.verify": ["Xác minh danh tính", "Verified the identity"],
    "status.colour": ["Xem tình trạng tiêm", "Read the vaccination status"], "vaccination.read": ["Xem mũi tiêm", "Read the vaccinations"],
    "vaccination.record": ["Ghi nhận mũi tiêm", "Recorded a dose"], "vaccination.sign": ["Ký số mũi tiêm", "Signed a dose"],
    "vaccination.queue.read": ["Duyệt dữ liệu tiêm", "Reviewed vaccination data"], "vaccination.signing.read": ["Xem mũi chờ ký", "Read the doses awaiting signature"],
    "vaccination.correction_request": ["Yêu cầu sửa mũi tiêm", "Correction request"], "certificate.issue": ["Cấp chứng nhận", "Issued the certificate"],
    "certificate.reissue": ["Cấp lại chứng nhận", "Reissued the certificate"], "certificate.revoke": ["Thu hồi chứng nhận", "Revoked a certificate"],
    "dcc.verify": ["Kiểm tra chứng nhận", "Checked the certificate"], "declaration.submit": ["Khai báo y tế", "Health declaration"],
    "declaration.pass": ["Cấp thẻ đi lại", "Issued a travel pass"], "declaration.inbox.read": ["Công an xã xem khai báo", "Commune police read the declaration"],
    "declaration.inbox.ack": ["Công an xã xử lý khai báo", "Commune police followed it up"], "checkpoint.scan": ["Quét tại chốt", "Checkpoint scan"],
    "checkin": ["Vào địa điểm", "Venue check-in"], "checkin.batch": ["Địa điểm gửi lượt ra vào", "Venue sent check-ins"],
    "test.record": ["Ghi kết quả xét nghiệm", "Recorded a test result"], "case.confirm": ["Xác nhận ca bệnh", "Confirmed a case"],
    "case.recover": ["Xác nhận khỏi bệnh", "Confirmed recovery"], "trace.timeline": ["Xem lịch trình di chuyển", "Read the movement timeline"],
    "trace.contacts": ["Truy vết người tiếp xúc", "Traced contacts"], "trace.break_glass": ["Truy cập khẩn cấp", "Break-glass access"],
    "quarantine.order": ["Quyết định cách ly", "Quarantine order"], "quarantine.release": ["Kết thúc cách ly", "Quarantine release"],
    "citizen_account.rebind_phone": ["Gắn lại số điện thoại", "Re-bound the phone"],
    "citizen_app.card": ["Xem thẻ sức khỏe", "Health card"], "citizen_app.history": ["Xem lịch sử", "History"], "citizen_app.people": ["Xem hộ gia đình", "Household"],
    "citizen_app.privacy": ["Xem trang dữ liệu", "This privacy page"], "citizen_app.fhir_export": ["Tải FHIR", "FHIR download"],
    "citizen_app.correction_request": ["Báo sai sót", "Reported an error"], "citizen_app.add_person": ["Thêm người thân", "Added a family member"],
    "citizen_app.session_opened": ["Đăng nhập", "Logged in"], "citizen_app.account_created": ["Tạo tài khoản", "Account created"],
    "citizen_app.signup.code_sent": ["Gửi mã đăng ký", "Sign-up code sent"], "citizen_app.login.code_sent": ["Gửi mã đăng nhập", "Log-in code sent"],
  };
  const VERDICTS = { valid: ["Hợp lệ", "Valid"], expired: ["Hết hạn", "Expired"], forged: ["Giả mạo", "Forged"], no_declaration: ["Chưa khai báo", "No declaration"] };
  const state = { me: null, people: [], person: null, challenge: null, pending: null, pickers: null };

  // ---- small helpers -------------------------------------------------------------------------
  const pair = (table, code) => table[code] || [code, code];
  const text = (vi, en) => vi + " / " + en;
  const time = (t) => (t ? new Date(t).toLocaleString("vi-VN") : "");
  // "1987-03-09" → "09/03/1987"; partial registry dates ("1987-03", "1987") are shown as they are.
  const day = (d) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(d || "");
    return m ? m[3] + "/" + m[2] + "/" + m[1] : (d || "");
  };
  // Accepts YYYY-MM-DD or the usual Vietnamese DD/MM/YYYY; returns YYYY-MM-DD (or the input).
  const isoDate = (raw) => {
    const s = raw.trim();
    const m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(s);
    return m ? m[3] + "-" + m[2].padStart(2, "0") + "-" + m[1].padStart(2, "0") : s;
  };
  const digits = (raw) => raw.replace(/[\s.-]/g, "");
  // The personal ID's fourth digit codes century and sex: even for men, odd for women.
  const sexOf = (pid) => (/^\d{12}$/.test(pid) ? (Number(pid[3]) % 2 === 0 ? "M" : "F") : "");
  const svgSrc = (svg) => "data:image/svg+xml;base64," + btoa(unescape(encodeURIComponent(svg)));
  const person = () => state.people.find((p) => p.personal_id === state.person) || state.people[0] || null;
  const personQuery = () => "?person=" + encodeURIComponent(state.person || "");
  const section = (vi, en, ...children) => el("section", { class: "panel" }, el("h2", {}, bi(vi, en)), ...children);
  const facts = (rows) => {
    const dl = el("dl", { class: "facts" });
    for (const [vi, en, value, id] of rows) {
      if (value === null || value === undefined || value === "") continue;
      dl.append(el("dt", {}, bi(vi, en)), el("dd", id ? { id } : {}, value));
    }
    return dl;
  };
  const loading = () => el("p", { class: "muted" }, "Đang tải… / Loading…");
  const empty = (vi, en) => el("p", { class: "muted" }, text(vi, en));

  // A failed load: the API's bilingual message, or "offline".
  function failure(box, res) {
    const d = res.data || {};
    box.replaceChildren(el("p", { class: "form-error", role: "alert" },
      d.message_vi ? text(d.message_vi, d.message_en || "") : res.status === 0
        ? text("Không kết nối được máy chủ", "Cannot reach the server") : text("Lỗi " + res.status, "Error " + res.status)));
    if (res.status === 401) { state.me = null; go("login"); }
  }

  async function api(path, body) {
    try {
      return await VT.api(path, body);
    } catch (_) {
      return { ok: false, status: 0, data: null };
    }
  }

  // ---- form errors: the message goes next to the field the API names ------------------------
  function clearErrors(form) {
    form.querySelectorAll(".field-error").forEach((e) => e.remove());
    form.querySelectorAll("[aria-invalid]").forEach((e) => {
      e.removeAttribute("aria-invalid");
      const ids = (e.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && !x.endsWith("-error"));
      if (ids.length) e.setAttribute("aria-describedby", ids.join(" ")); else e.removeAttribute("aria-describedby");
    });
    form.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
    const general = form.querySelector(".form-error");
    if (general) { general.hidden = true; general.textContent = ""; }
  }

  function fieldError(form, name, message) {
    const input = form.querySelector("[name='" + CSS.escape(name) + "']");
    if (!input) return false;
    if (input.type === "hidden") {
      // A unit picker: mark the whole picker and put the message under it.
      const picker = input.closest(".unit-picker");
      picker.classList.add("invalid");
      picker.append(el("p", { class: "field-error", id: input.id + "-error" }, message));
      picker.querySelector("select").setAttribute("aria-invalid", "true");
      return picker.querySelector("select");
    }
    const p = el("p", { class: "field-error", id: input.id + "-error" }, message);
    (input.closest(".field") || input.parentElement).append(p);
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + p.id).trim());
    return input;
  }

  // Shows an API error on a form: under each named field (field, or fields for identity
  // mismatches), else in the form's general error line. Returns the error body.
  function showErrors(form, res) {
    clearErrors(form);
    const d = res.data || {};
    let message = d.message_vi ? text(d.message_vi, d.message_en || "")
      : res.status === 0 ? text("Không kết nối được máy chủ", "Cannot reach the server") : text("Lỗi " + res.status, "Error " + res.status);
    if (typeof d.attempts_left === "number") message += " — " + text("Còn " + d.attempts_left + " lần thử", d.attempts_left + " attempts left");
    const names = [];
    if (Array.isArray(d.fields)) for (const f of d.fields) names.push(typeof f === "string" ? f : f.field);
    else if (d.field) names.push(d.field);
    let first = null;
    for (const name of names) {
      const hit = fieldError(form, name, message);
      if (hit && !first) first = hit;
    }
    if (!first) {
      const general = form.querySelector(".form-error");
      general.textContent = message;
      general.hidden = false;
      general.dataset.code = d.code || d.error || "";
    } else {
      first.focus();
    }
    return d;
  }

  function busy(form, on) {
    form.querySelectorAll("button").forEach((b) => { b.disabled = on; });
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  // ---- routing -------------------------------------------------------------------------------
  function go(name) {
    if (location.hash === "#/" + name) route(); else location.hash = "#/" + name;
  }

  async function route() {
    let name = (/^#\/([a-z]+)/.exec(location.hash) || [])[1] || (state.me ? "home" : "login");
    if (!$("screen-" + name)) name = state.me ? "home" : "login";
    if (state.me && state.me.role !== "citizen") name = "officer";
    else if (!state.me && !PUBLIC.has(name)) name = "login";
    else if (state.me && PUBLIC.has(name)) name = "home";
    if (name === "otp" && !state.challenge) name = "login";
    if (name !== "officer" && location.hash !== "#/" + name) history.replaceState(null, "", "#/" + name);
    const screen = $("screen-" + name);
    document.querySelectorAll(".screen").forEach((s) => { s.hidden = s !== screen; });
    document.title = screen.dataset.title + " — vaxtrace";
    const signedIn = !!state.me && state.me.role === "citizen";
    $("tabs").hidden = !signedIn;
    $("switcher").hidden = !signedIn || state.people.length < 2;
    document.body.classList.toggle("signed-in", signedIn);
    const tab = { household: "more", privacy: "more" }[name] || name;
    document.querySelectorAll("#tabs a").forEach((a) => {
      if (a.dataset.tab === tab) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    });
    window.scrollTo(0, 0);
    const h1 = screen.querySelector("h1");
    if (document.activeElement && document.activeElement !== document.body && !screen.contains(document.activeElement)) h1.focus();
    const render = RENDER[name];
    if (render) await render();
  }

  // ---- sign-up, log-in, code -----------------------------------------------------------------
  async function requestCode(kind, body, form) {
    busy(form, true);
    const res = await api("/api/v1/citizen/" + kind, body);
    busy(form, false);
    if (!res.ok) { showErrors(form, res); return false; }
    clearErrors(form);
    state.pending = { kind, body };
    state.challenge = res.data;
    go("otp");
    return true;
  }

  function renderOtp() {
    const c = state.challenge;
    $("otp-phone").textContent = c.sent_to || "";
    $("otp-outbox").hidden = c.delivery !== "outbox";
    $("otp-expiry").textContent = c.expires_at
      ? text("Mã dùng được đến " + new Date(c.expires_at).toLocaleTimeString("vi-VN"), "valid until " + new Date(c.expires_at).toLocaleTimeString("vi-VN")) : "";
    const form = $("otp-form");
    clearErrors(form);
    form.reset();
    $("otp-submit").disabled = false;
    $("otp-code").focus();
  }

  async function verify(ev) {
    ev.preventDefault();
    const form = ev.target;
    busy(form, true);
    const res = await api("/api/v1/citizen/verify", { challenge_id: state.challenge.challenge_id, code: digits($("otp-code").value) });
    busy(form, false);
    if (!res.ok) {
      const d = showErrors(form, res);
      // A locked or expired code cannot be tried again: only a new code helps.
      if (["locked", "expired"].includes(d.code || d.error)) $("otp-submit").disabled = true;
      return;
    }
    state.challenge = state.pending = null;
    await signedIn(res.data.personal_id);
    go("home");
  }

  async function signedIn(selfId) {
    const me = await api("/api/v1/me");
    state.me = me.ok ? me.data : null;
    if (!state.me || state.me.role !== "citizen") return;
    await loadPeople(selfId);
  }

  async function loadPeople(prefer) {
    const res = await api("/api/v1/me/people");
    state.people = res.ok ? res.data : [];
    const saved = prefer || sessionStorage.getItem("vt.person");
    state.person = state.people.some((p) => p.personal_id === saved) ? saved : (state.people[0] || {}).personal_id || null;
    const select = $("person");
    select.replaceChildren(...state.people.map((p) => el("option", { value: p.personal_id },
      p.relation === "self" ? p.full_name : p.full_name + " (" + text(...pair(RELATIONS, p.relation)) + ")")));
    if (state.person) select.value = state.person;
    $("switcher").hidden = state.people.length < 2;
  }

  // ---- home: the health card -----------------------------------------------------------------
  async function renderHome() {
    const box = $("card");
    const more = $("card-more");
    box.replaceChildren(loading());
    more.replaceChildren();
    const res = await api("/api/v1/me/card" + personQuery());
    if (!res.ok) return failure(box, res);
    const c = res.data;
    const s = c.status || { colour: "none" };
    const [vi, en] = COLOURS[s.colour] || COLOURS.none;
    const p = c.person || person() || {};
    const card = el("section", { id: "health-card", class: "hcard " + (COLOURS[s.colour] ? s.colour : "none"), "data-colour": s.colour, "aria-label": "Thẻ sức khỏe / Health card" },
      el("p", { class: "who", id: "card-name" }, p.full_name || ""),
      el("p", { class: "who-sub" }, (p.personal_id || "") + " · " + day(p.birth_date)),
      el("p", { class: "colour", id: "colour" }, vi, " ", el("span", { class: "en", lang: "en" }, "/ " + en)),
      el("p", { class: "rule", id: "rule" }, s.rule_vi || "", s.rule_en ? el("span", { class: "en", lang: "en" }, " / " + s.rule_en) : ""),
      el("p", { class: "rule-version" }, "Quy tắc / Rule: ", el("code", { id: "rule-version" }, s.rule_version || "—")));
    if (c.certificate && c.certificate.svg) {
      const pid = encodeURIComponent(p.personal_id || state.person);
      card.append(el("div", { class: "qr" },
        el("img", { id: "certificate-qr", src: svgSrc(c.certificate.svg), alt: "Mã QR chứng nhận tiêm chủng / Vaccination certificate QR code" })),
        el("p", { class: "uvci" }, "UVCI: ", el("code", { id: "uvci" }, c.certificate.uvci || "")),
        el("div", { class: "row center downloads" },
          el("a", { class: "btn light", id: "certificate-print", href: "/api/v1/me/certificate.html?person=" + pid, target: "_blank", rel: "noopener" },
            bi("Tải bản in", "Download, print")),
          el("a", { class: "btn light", id: "certificate-fhir", href: "/api/v1/me/fhir?person=" + pid, download: "vaccination-" + (p.personal_id || "") + ".fhir.json" },
            bi("Tải FHIR", "Download FHIR"))));
    } else {
      const why = c.certificate_note_vi ? text(c.certificate_note_vi, c.certificate_note_en || "")
        : text("Chưa có chứng nhận tiêm chủng", "No vaccination certificate yet");
      card.append(el("p", { class: "note", id: "certificate-note" }, why));
    }
    box.replaceChildren(card);

    // The 72-hour pass, or the way to get one.
    const pass = el("section", { class: "panel", id: "pass-panel" }, el("h2", {}, bi("Thẻ đi lại 72 giờ", "72-hour travel pass")));
    if (c.pass && c.pass.pass_svg) {
      const valid = !c.pass.expires_at || new Date(c.pass.expires_at) > new Date();
      pass.append(el("img", { id: "home-pass-qr", class: "pass-qr", src: svgSrc(c.pass.pass_svg), alt: "Mã QR thẻ đi lại / Travel pass QR code" }),
        el("p", { class: "center" }, valid ? "Dùng đến / Valid until: " : "Đã hết hạn / Expired: ", el("strong", { id: "home-pass-expires" }, time(c.pass.expires_at))));
    } else {
      // Someone who declared recently (here, or in an earlier app whose declarations were imported)
      // gets a fresh pass without declaring again.
      const renewNote = el("p", { id: "renew-note", role: "status" });
      const renew = el("button", { type: "button", class: "btn block light", id: "home-renew-pass" },
        bi("Lấy thẻ từ tờ khai gần nhất", "Pass from my latest declaration"));
      renew.addEventListener("click", async () => {
        renew.disabled = true;
        const res = await api("/api/v1/me/pass?person=" + encodeURIComponent(state.person), {});
        renew.disabled = false;
        if (res.ok) return renderHome();
        const d = res.data || {};
        renewNote.replaceChildren(d.message_vi ? text(d.message_vi, d.message_en || "")
          : text("Không lấy được thẻ đi lại", "No pass could be issued"));
      });
      pass.append(el("p", { id: "no-pass" }, text("Chưa có thẻ đi lại còn hạn", "No valid travel pass")), renew, renewNote);
    }
    pass.append(el("a", { href: "#/declare", class: "btn block", id: "home-declare" }, bi("Khai báo y tế", "Health declaration")));

    // Doses.
    const doses = section("Các mũi tiêm", "Doses");
    if (c.doses && c.doses.length) {
      doses.append(el("ul", { class: "items", id: "doses" }, ...c.doses.map((x) => el("li", { "data-dose": x.dose_number },
        el("strong", {}, "Mũi " + x.dose_number + " / Dose " + x.dose_number), " · ", x.vaccine_name || x.vaccine_code, el("br"),
        day(x.administered_on || x.administered_at), " · ",
        el("span", { class: "chip " + (x.signed ? "done" : "open") }, x.signed ? text("Đã ký", "Signed") : text("Chờ ký", "Awaiting signature"))))));
    } else {
      doses.append(empty("Chưa có mũi tiêm nào", "No doses recorded"));
    }

    // Cases, quarantine, tests, insurance.
    // The server sends quarantine flat (quarantined, quarantine_kind, quarantine_ends_on).
    const q = c.quarantine || (c.quarantined ? { kind: c.quarantine_kind, ends_on: c.quarantine_ends_on } : null);
    const t = c.latest_test;
    const ins = c.insurance;
    const health = section("Tình trạng y tế", "Health status", facts([
      ["Ca bệnh F0", "COVID-19 case", c.f0 ? text("Đang là F0", "Active case") : c.recovered_on ? text("Đã khỏi ngày " + day(c.recovered_on), "Recovered on " + day(c.recovered_on)) : text("Không", "No"), "f0"],
      ["Cách ly", "Quarantine", q ? text(...pair(QUARANTINE, q.kind)) + (q.ends_on ? " — " + text("đến " + day(q.ends_on), "until " + day(q.ends_on)) : "") : text("Không", "None"), "quarantine"],
      ["Xét nghiệm gần nhất", "Latest test", t ? text(...pair(TEST_KINDS, t.kind)) + ": " + text(...pair(TEST_RESULTS, t.result)) + " (" + time(t.sampled_at) + ")" : text("Chưa có", "None"), "latest-test"],
      ["Thẻ BHYT", "Health insurance", ins ? ins.card_number + (ins.valid_to ? " — " + text("hạn đến " + day(ins.valid_to), "valid to " + day(ins.valid_to)) : "") : text("Chưa có thông tin", "Not on record"), "insurance"],
    ]));
    more.replaceChildren(pass, doses, health);
  }

  // ---- declaration ---------------------------------------------------------------------------
  async function renderDeclare() {
    const p = person();
    if (!p) return;
    const form = $("declare-form");
    if ($("d-personal_id").value !== p.personal_id) {
      clearErrors(form);
      $("declare-result").replaceChildren();
      $("d-sex").value = sexOf(p.personal_id);
      $("d-phone").value = "";
    }
    $("d-personal_id").value = p.personal_id;
    $("d-full_name").value = p.full_name;
    $("d-birth_date").value = p.birth_date;
    if (!$("d-travel_date").value) {
      const now = new Date(); // the device's own day, not UTC's
      $("d-travel_date").value = [now.getFullYear(), String(now.getMonth() + 1).padStart(2, "0"), String(now.getDate()).padStart(2, "0")].join("-");
    }
    if (!state.pickers) {
      state.pickers = Promise.all([VT.unitPicker($("d-origin-picker"), $("d-origin_commune_code")),
                                   VT.unitPicker($("d-destination-picker"), $("d-destination_commune_code"))]);
    }
    await state.pickers;
  }

  async function declare(ev) {
    ev.preventDefault();
    const form = ev.target;
    const v = (name) => form.elements[name].value.trim();
    const body = {
      personal_id: v("personal_id"), full_name: v("full_name"), birth_date: v("birth_date"), sex: v("sex"), phone: digits(v("phone")) || null,
      symptoms: [...form.querySelectorAll("input[name=symptom]:checked")].map((c) => c.value),
      contact_with_case: form.elements.contact_with_case.checked, contact_with_suspected: form.elements.contact_with_suspected.checked,
      visited_outbreak_area: form.elements.visited_outbreak_area.checked,
      origin_commune_code: v("origin_commune_code"), origin_address: v("origin_address"),
      destination_commune_code: v("destination_commune_code"), destination_address: v("destination_address"),
      travel_date: v("travel_date"), transport: v("transport"), vehicle: v("vehicle") || null, purpose: v("purpose") || null,
    };
    busy(form, true);
    const res = await api("/api/v1/declarations", body);
    busy(form, false);
    const box = $("declare-result");
    if (!res.ok) { box.replaceChildren(); showErrors(form, res); return; }
    clearErrors(form);
    const r = res.data;
    const out = el("section", { class: "panel ok", id: "declared" },
      el("p", { class: "verdict valid", id: "pass-ok" }, "ĐÃ KHAI BÁO / DECLARED"),
      el("img", { id: "pass-qr", class: "pass-qr", src: svgSrc(r.pass_svg), alt: "Mã QR thẻ đi lại / Travel pass QR code" }),
      el("p", { class: "center" }, "Dùng đến / Valid until: ", el("strong", { id: "pass-expires" }, time(r.expires_at))),
      el("code", { id: "pass-text", class: "pass-text" }, r.pass));
    if (r.health_risk) out.append(el("p", { class: "notice" }, text("Bạn khai có triệu chứng hoặc tiếp xúc: hãy liên hệ trạm y tế", "You declared symptoms or a contact: please call your health station")));
    out.append(el("a", { href: "#/home", class: "btn secondary block", id: "declare-home" }, bi("Về trang chủ", "Back to home")));
    box.replaceChildren(out);
    out.scrollIntoView({ block: "start" });
    $("pass-ok").setAttribute("tabindex", "-1");
    $("pass-ok").focus({ preventScroll: true });
  }

  // ---- venue check-in ------------------------------------------------------------------------
  function personLine(id) {
    const p = person();
    $(id).replaceChildren(p ? el("span", {}, bi("Người", "Person"), ": ", el("strong", {}, p.full_name), " · " + p.personal_id) : "");
  }

  async function checkin(path, done) {
    const form = $("checkin-form");
    const p = person();
    const body = { venue_code: $("venue_code").value.trim(), personal_id: p.personal_id, birth_date: p.birth_date };
    busy(form, true);
    const res = await api(path, body);
    busy(form, false);
    const box = $("checkin-result");
    if (!res.ok) { box.replaceChildren(); showErrors(form, res); return; }
    clearErrors(form);
    const r = res.data;
    box.replaceChildren(el("section", { class: "panel ok" },
      el("p", { id: "checkin-done", class: "verdict valid" }, done),
      facts([["Địa điểm", "Venue", r.venue_name, "checkin-venue"], ["Vào lúc", "Checked in", time(r.checked_in_at)],
             [r.checked_out ? "Ra lúc" : "Dự kiến ra", r.checked_out ? "Checked out" : "Expected to leave", time(r.ends_at)]])));
    $("checkin-done").setAttribute("tabindex", "-1");
    $("checkin-done").focus();
  }

  function renderCheckin() {
    personLine("checkin-person");
  }

  // ---- history -------------------------------------------------------------------------------
  async function renderHistory() {
    personLine("history-person");
    const box = $("history");
    box.replaceChildren(loading());
    const res = await api("/api/v1/me/history" + personQuery());
    if (!res.ok) return failure(box, res);
    const h = res.data;
    const list = (id, items, render, vi, en) => (items && items.length
      ? el("ul", { class: "items", id }, ...items.map(render)) : empty(vi, en));
    const corrections = h.corrections || [];
    const vaccinations = section("Tiêm chủng", "Vaccinations", list("history-vaccinations", h.vaccinations, (v) => {
      const li = el("li", { "data-vaccination": v.id },
        el("strong", {}, "Mũi " + v.dose_number + " / Dose " + v.dose_number), " · ", v.vaccine_name || v.vaccine_code, el("br"),
        time(v.administered_at || v.administered_on), v.site_code ? " · " + v.site_code : "", " · ",
        el("span", { class: "chip " + (v.signed ? "done" : "open") }, v.signed ? text("Đã ký", "Signed") : text("Chờ ký", "Awaiting signature")));
      const open = corrections.filter((c) => String(c.vaccination_id) === String(v.id) && !c.handled).length;
      if (open) li.append(" ", el("span", { class: "chip open" }, text("Đang báo sai sót", "Error reported")));
      const formId = "correct-" + v.id;
      const toggle = el("button", { type: "button", class: "btn secondary small report", "aria-expanded": "false", "aria-controls": formId, id: "report-" + v.id },
        bi("Báo sai sót", "Report an error"));
      const form = correctionForm(v, formId);
      toggle.addEventListener("click", () => {
        form.hidden = !form.hidden;
        toggle.setAttribute("aria-expanded", String(!form.hidden));
        if (!form.hidden) form.querySelector("textarea").focus();
      });
      li.append(el("div", { class: "row" }, toggle), form);
      return li;
    }, "Chưa có mũi tiêm nào", "No vaccinations"));
    const corr = section("Yêu cầu sửa sai sót", "Correction requests", list("history-corrections", corrections, (c) => el("li", { "data-correction": c.id, "data-handled": String(!!c.handled) },
      el("span", { class: "chip " + (c.handled ? "done" : "open") }, c.handled ? text("Đã xử lý", "Handled") : text("Đang chờ xử lý", "Open")),
      " ", time(c.filed_at), el("br"), c.message,
      c.handled && c.handled_at ? el("span", { class: "muted block" }, text("Xử lý lúc " + time(c.handled_at), "Handled at " + time(c.handled_at))) : "",
      c.resolution_vi || c.note ? el("span", { class: "block" }, c.resolution_vi ? text(c.resolution_vi, c.resolution_en || "") : c.note) : ""),
    "Chưa có yêu cầu nào", "No requests"));
    const declarations = section("Khai báo y tế", "Declarations", list("history-declarations", h.declarations, (d) => el("li", {},
      el("strong", {}, time(d.declared_at)), d.revoked ? el("span", {}, " ", el("span", { class: "chip" }, text("Đã hủy", "Revoked"))) : "", el("br"),
      text("Ngày đi " + day(d.travel_date), "travel " + day(d.travel_date)), el("br"),
      (d.origin || d.origin_place || "") + " → " + (d.destination || d.destination_place || "")), "Chưa có khai báo", "No declarations"));
    const checkins = section("Ra vào địa điểm", "Venue check-ins", list("history-checkins", h.checkins, (c) => el("li", {},
      el("strong", {}, c.venue_name), el("br"), text("Vào", "In") + ": " + time(c.checked_in_at),
      c.checked_out_at || c.until ? el("span", {}, el("br"), text("Đến", "Until") + ": " + time(c.checked_out_at || c.until)) : ""), "Chưa có lượt ra vào", "No check-ins"));
    const scans = section("Qua chốt kiểm soát", "Checkpoint scans", list("history-scans", h.scans, (s) => el("li", {},
      el("strong", {}, s.checkpoint_name), el("br"), time(s.scanned_at), " · ", text(...pair(VERDICTS, s.verdict))), "Chưa qua chốt nào", "No checkpoint scans"));
    const tests = section("Xét nghiệm", "Tests", list("history-tests", h.tests, (t) => el("li", {},
      el("strong", {}, text(...pair(TEST_RESULTS, t.result))), " · ", text(...pair(TEST_KINDS, t.kind)), el("br"), time(t.sampled_at),
      t.lab ? " · " + t.lab : ""), "Chưa có xét nghiệm", "No tests"));
    box.replaceChildren(vaccinations, corr, declarations, checkins, scans, tests);
  }

  function correctionForm(v, id) {
    const area = "msg-" + v.id;
    const form = el("form", { class: "correction", id, hidden: "", novalidate: "" },
      el("div", { class: "field" }, el("label", { for: area }, bi("Điều gì chưa đúng?", "What is wrong?")),
        el("textarea", { id: area, name: "message", rows: "3", maxlength: "500", required: "" })),
      el("p", { class: "form-error", role: "alert", hidden: "" }),
      el("button", { type: "submit", class: "btn", id: "send-" + v.id }, bi("Gửi yêu cầu", "Send")));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      busy(form, true);
      const res = await api("/api/v1/me/corrections", { person: state.person, vaccination_id: v.id, message: form.elements.message.value.trim() });
      busy(form, false);
      if (!res.ok) return showErrors(form, res);
      await renderHistory();
      const sent = $("history-corrections");
      if (sent) { sent.setAttribute("tabindex", "-1"); sent.focus(); }
    });
    return form;
  }

  // ---- household -----------------------------------------------------------------------------
  async function renderHousehold() {
    await loadPeople(state.person);
    $("people").replaceChildren(...state.people.map((p) => el("li", { "data-person": p.personal_id },
      el("strong", {}, p.full_name), " · ", text(...pair(RELATIONS, p.relation)), el("br"),
      p.personal_id + " · " + day(p.birth_date), " ",
      el("button", { type: "button", class: "btn secondary small", "data-show": p.personal_id, id: "show-" + p.personal_id }, bi("Xem thẻ", "Show card")))));
    $("people").querySelectorAll("button[data-show]").forEach((b) => b.addEventListener("click", () => choose(b.dataset.show, "home")));
  }

  async function addMember(ev) {
    ev.preventDefault();
    const form = ev.target;
    const body = { personal_id: digits(form.elements.personal_id.value), full_name: form.elements.full_name.value.trim(),
                   birth_date: isoDate(form.elements.birth_date.value), relation: form.elements.relation.value };
    busy(form, true);
    const res = await api("/api/v1/me/people", body);
    busy(form, false);
    if (!res.ok) { $("member-result").replaceChildren(); showErrors(form, res); return; }
    clearErrors(form);
    form.reset();
    await renderHousehold();
    $("member-result").replaceChildren(el("p", { class: "panel ok", id: "member-added" }, text("Đã thêm " + body.full_name, "Added " + body.full_name)));
  }

  function choose(pid, next) {
    state.person = pid;
    sessionStorage.setItem("vt.person", pid);
    $("person").value = pid;
    if (next) go(next); else route();
  }

  // ---- privacy -------------------------------------------------------------------------------
  async function renderPrivacy() {
    personLine("privacy-person");
    const box = $("privacy");
    box.replaceChildren(loading());
    const res = await api("/api/v1/me/privacy" + personQuery());
    if (!res.ok) return failure(box, res);
    const pr = res.data;
    const holdings = section("Dữ liệu hệ thống đang giữ", "What the system holds", (pr.holdings || []).length
      ? el("ul", { class: "items", id: "holdings" }, ...pr.holdings.map((h) => el("li", { "data-kind": h.kind },
        el("strong", {}, h.label_vi), el("span", { class: "en", lang: "en" }, " / " + h.label_en), ": ", el("span", { class: "count" }, String(h.count)), el("br"),
        el("span", { class: "muted" }, text("Lưu giữ: " + h.retention_vi, "Kept: " + h.retention_en)))))
      : empty("Không có dữ liệu", "Nothing held"));
    // Everyone else's reads, each with role, unit, action and purpose (the server lists them); the
    // account's own use of the app is only counted, so it can never crowd them out.
    const officers = pr.accesses || [];
    const ownUses = pr.own_uses || 0;
    const access = (a) => el("li", { "data-role": a.role },
      el("strong", {}, a.role_label_vi || a.role), a.role_label_en ? el("span", { class: "en", lang: "en" }, " / " + a.role_label_en) : "",
      a.unit_name || a.unit ? " · " + (a.unit_name || a.unit) : "", el("br"),
      time(a.at), " · ", text(...pair(ACTIONS, a.action)), el("br"),
      text("Mục đích: " + pair(PURPOSES, a.purpose)[0], "Purpose: " + pair(PURPOSES, a.purpose)[1]));
    const accesses = section("Ai đã xem dữ liệu và vì sao", "Who looked at it and why",
      el("p", { class: "muted" }, text("Cán bộ được ghi theo vai trò và đơn vị, không ghi tên", "Officers are shown by role and unit, never by name")),
      officers.length ? el("ul", { class: "items", id: "accesses" }, ...officers.map(access))
        : el("p", { id: "accesses" }, text("Chưa có cán bộ nào xem", "No officer has looked at it")));
    if (ownUses) {
      accesses.append(el("p", { class: "muted", id: "own-accesses" },
        text("Bạn dùng ứng dụng và đăng nhập: " + ownUses + " lượt", "Your own use of the app and sign-ins: " + ownUses)));
    }
    box.replaceChildren(holdings, accesses);
  }

  // ---- account -------------------------------------------------------------------------------
  function renderMore() {
    const self = state.people.find((p) => p.relation === "self");
    $("account-line").replaceChildren(el("span", {}, bi("Tài khoản", "Account"), ": ", el("strong", {}, self ? self.full_name : state.me.username)));
  }

  async function logout() {
    await api("/api/v1/auth/logout", {});
    state.me = null;
    state.people = [];
    state.person = null;
    sessionStorage.removeItem("vt.person");
    go("login");
  }

  const RENDER = { otp: renderOtp, home: renderHome, declare: renderDeclare, checkin: renderCheckin, history: renderHistory,
                   household: renderHousehold, privacy: renderPrivacy, more: renderMore };

  async function start() {
    $("login-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const f = ev.target.elements;
      requestCode("login", { personal_id: digits(f.personal_id.value), phone: digits(f.phone.value) }, ev.target);
    });
    $("signup-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const f = ev.target.elements;
      requestCode("signup", { personal_id: digits(f.personal_id.value), full_name: f.full_name.value.trim(),
                              birth_date: isoDate(f.birth_date.value), phone: digits(f.phone.value) }, ev.target);
    });
    $("otp-form").addEventListener("submit", verify);
    $("otp-resend").addEventListener("click", async () => {
      const { kind, body } = state.pending || {};
      if (!kind) return go("login");
      const res = await api("/api/v1/citizen/" + kind, body);
      if (!res.ok) return showErrors($("otp-form"), res);
      state.challenge = res.data;
      renderOtp();
    });
    $("declare-form").addEventListener("submit", declare);
    $("checkin-form").addEventListener("submit", (ev) => { ev.preventDefault(); checkin("/api/v1/checkins", "ĐÃ VÀO / CHECKED IN"); });
    $("checkout-submit").addEventListener("click", () => checkin("/api/v1/checkins/checkout", "ĐÃ RA / CHECKED OUT"));
    VTQR.attach(VTQR.elements(), (code) => { $("venue_code").value = code.trim(); return checkin("/api/v1/checkins", "ĐÃ VÀO / CHECKED IN"); });
    $("member-form").addEventListener("submit", addMember);
    $("person").addEventListener("change", (ev) => choose(ev.target.value));
    $("logout").addEventListener("click", logout);
    $("officer-logout").addEventListener("click", logout);
    window.addEventListener("hashchange", route);
    const offline = () => { $("offline").hidden = navigator.onLine; };
    window.addEventListener("online", offline);
    window.addEventListener("offline", offline);
    offline();
    await signedIn();
    await route();
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => {});
    }
  }

  return { start, state };
})();

document.addEventListener("DOMContentLoaded", () => CITIZEN.start());
