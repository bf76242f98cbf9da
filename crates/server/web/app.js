// Shared page code: navigation, API calls with the session cookie, safe rendering (textContent only).
"use strict";
const VT = {
  async api(path, body) {
    const opts = { credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      opts.method = "POST";
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    return { ok: res.ok, status: res.status, data };
  },
  el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  },
  // "Vietnamese / English" pair.
  bi(vi, en) {
    return VT.el("span", {}, vi, " ", VT.el("span", { class: "en", lang: "en" }, "/ " + en));
  },
  error(box, res) {
    box.className = "result bad";
    box.replaceChildren();
    const d = res.data || {};
    box.append(VT.el("p", { id: "error-vi" }, d.message_vi || "Lỗi " + res.status),
               VT.el("p", { class: "en", lang: "en" }, d.message_en || "Error " + res.status));
    if (d.field) box.append(VT.el("p", {}, "Trường / Field: ", VT.el("code", {}, d.field)));
  },
  list(pairs) {
    const dl = VT.el("dl");
    for (const [vi, en, value] of pairs) {
      if (value === null || value === undefined || value === "") continue;
      dl.append(VT.el("dt", {}, VT.bi(vi, en)), VT.el("dd", {}, value));
    }
    return dl;
  },
  // Province → district → commune selects from the real administrative units; the commune's
  // code lands in the hidden input `target`. Island districts without communes are picked as is.
  async unitPicker(root, target) {
    const pick = async (select, parent) => {
      const res = await VT.api("/api/v1/admin-units" + (parent ? "?parent=" + encodeURIComponent(parent) : ""));
      select.replaceChildren(VT.el("option", { value: "" }, "— Chọn / Choose —"));
      for (const u of (res.ok ? res.data.units : [])) select.append(VT.el("option", { value: u.code }, u.full_name));
      select.disabled = false;
    };
    const [province, district, commune] = root.querySelectorAll("select");
    district.disabled = commune.disabled = true;
    province.addEventListener("change", async () => {
      target.value = "";
      commune.replaceChildren(); commune.disabled = true;
      if (province.value) await pick(district, province.value);
    });
    district.addEventListener("change", async () => {
      target.value = "";
      if (!district.value) return;
      await pick(commune, district.value);
      if (commune.options.length === 1) target.value = district.value; // a district with no communes
    });
    commune.addEventListener("change", () => { target.value = commune.value; });
    await pick(province, "");
  },
  async nav() {
    const header = VT.el("header", {},
      VT.el("a", { href: "/" }, "vaxtrace"),
      VT.el("a", { href: "/lookup" }, VT.bi("Tra cứu công dân", "Citizen lookup")),
      VT.el("a", { href: "/verify" }, VT.bi("Xác minh danh tính", "Verify identity")),
      VT.el("a", { href: "/history" }, VT.bi("Tình trạng tiêm", "Vaccination status")),
      VT.el("a", { href: "/review" }, VT.bi("Duyệt dữ liệu tiêm", "Review queue")),
      VT.el("a", { href: "/signing" }, VT.bi("Ký số", "Signing")),
      VT.el("a", { href: "/scan" }, VT.bi("Kiểm tra chứng nhận", "Check certificate")),
      VT.el("a", { href: "/declare" }, VT.bi("Khai báo di chuyển", "Travel declaration")),
      VT.el("a", { href: "/checkpoint" }, VT.bi("Chốt kiểm soát", "Checkpoint")),
      VT.el("a", { href: "/inbox" }, VT.bi("Hộp thư công an xã", "Police inbox")),
      VT.el("a", { href: "/checkin" }, VT.bi("Khai báo ra vào", "Check in")),
      VT.el("a", { href: "/venues" }, VT.bi("Địa điểm", "Venues")),
      VT.el("a", { href: "/cases" }, VT.bi("Truy vết", "Tracing")));
    const who = VT.el("span", { class: "who", id: "who" });
    header.append(who);
    document.body.prepend(header);
    const me = await VT.api("/api/v1/me");
    if (me.ok) {
      const out = VT.el("a", { href: "#", id: "logout" }, VT.bi("Đăng xuất", "Log out"));
      out.addEventListener("click", async (ev) => {
        ev.preventDefault();
        await VT.api("/api/v1/auth/logout", {});
        location.href = "/login";
      });
      who.append(me.data.username + " · " + me.data.role_label_vi + " · " + me.data.jurisdiction_name + " ", out);
    } else {
      who.append(VT.el("a", { href: "/login" }, VT.bi("Đăng nhập", "Log in")));
    }
    return me.ok ? me.data : null;
  },
};
