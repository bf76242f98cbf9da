"use strict";
// The commune review queue: list, side-by-side comparison with differing fields highlighted,
// one-record decisions and bulk decisions. All rendering uses textContent (VT.el).
const FIELDS = [
  ["full_name", "Họ tên", "Name"], ["birth_date", "Ngày sinh", "Birth date"], ["sex", "Giới tính", "Sex"],
  ["phone", "Điện thoại", "Phone"], ["commune", "Xã", "Commune"], ["personal_id", "Số định danh", "Personal ID"],
];
let rows = [];

function day(t) { return t ? t.slice(0, 10) : ""; }

async function load() {
  const decision = document.getElementById("decision").value;
  const res = await VT.api("/api/v1/vaccinations/queue?limit=200&decision=" + encodeURIComponent(decision));
  const box = document.getElementById("result");
  if (!res.ok) return VT.error(box, res);
  rows = res.data;
  const body = document.querySelector("#queue tbody");
  body.replaceChildren(...rows.map((r) => {
    const tr = VT.el("tr", { "data-id": r.id, class: "row" },
      VT.el("td", {}, VT.el("input", { type: "checkbox", class: "pick", value: r.id, "aria-label": "#" + r.id })),
      VT.el("td", {}, r.id), VT.el("td", {}, r.full_name), VT.el("td", {}, r.birth_date || ""),
      VT.el("td", {}, r.vaccine_code + " · " + r.dose_number), VT.el("td", {}, day(r.administered_at)),
      VT.el("td", {}, r.decision), VT.el("td", {}, r.score === null ? "" : r.score.toFixed(1)));
    tr.addEventListener("click", (ev) => { if (ev.target.type !== "checkbox") show(r.id); });
    return tr;
  }));
  box.className = "result ok";
  box.textContent = rows.length + " bản ghi / records";
}

function cell(value, agreement) {
  const cls = agreement === "exact" || agreement === "close" ? "same" : agreement === "missing" ? "" : "diff";
  return VT.el("td", { class: cls }, value || "—");
}

async function show(id) {
  const panel = document.getElementById("detail");
  const res = await VT.api("/api/v1/vaccinations/" + id);
  if (!res.ok) return VT.error(panel, res);
  const d = res.data, r = d.record;
  panel.className = "result";
  const head = VT.el("tr", {}, VT.el("th", {}, ""), VT.el("th", {}, VT.bi("Bản ghi tiêm #" + r.id, "Record")));
  const cands = d.candidates;
  for (const c of cands) head.append(VT.el("th", {}, VT.bi("Ứng viên", "Candidate") , " " + (c.evidence.score || 0).toFixed(1)));
  const table = VT.el("table", { class: "grid compare", id: "compare" }, VT.el("thead", {}, head));
  const tbody = VT.el("tbody");
  const recordValue = {
    full_name: r.full_name, birth_date: r.birth_date, sex: r.sex, phone: r.phone,
    commune: r.commune_code, personal_id: r.claimed_personal_id,
  };
  for (const [key, vi, en] of FIELDS) {
    const tr = VT.el("tr", {}, VT.el("th", {}, VT.bi(vi, en)), VT.el("td", {}, recordValue[key] || "—"));
    for (const c of cands) {
      const z = c.citizen;
      const value = { full_name: z.full_name, birth_date: z.birth_date, sex: z.sex, phone: z.phone,
        commune: z.permanent.unit_code, personal_id: z.personal_id }[key];
      const ev = (c.evidence.fields || []).find((f) => f.field === key || (key === "commune" && f.field === "commune"));
      tr.append(cell(value, ev ? ev.agreement : "missing"));
    }
    tbody.append(tr);
  }
  const actions = VT.el("tr", {}, VT.el("th", {}, ""), VT.el("td", {}, ""));
  for (const c of cands) {
    const b = VT.el("button", { type: "button", class: "link-btn", "data-pid": c.citizen.personal_id }, VT.bi("Liên kết", "Link"));
    b.addEventListener("click", () => act(r, { action: "link", personal_id: c.citizen.personal_id }));
    actions.append(VT.el("td", {}, b));
  }
  tbody.append(actions);
  table.append(tbody);
  const reason = VT.el("input", { id: "reason", value: "", placeholder: "Lý do (bắt buộc) / Reason (required)" });
  const reject = VT.el("button", { type: "button", id: "reject", class: "danger" }, VT.bi("Từ chối", "Reject"));
  reject.addEventListener("click", () => act(r, { action: "reject" }));
  const dupOf = VT.el("input", { id: "duplicate-of", type: "number", placeholder: "# bản ghi gốc / original #" });
  const dup = VT.el("button", { type: "button", id: "duplicate" }, VT.bi("Đánh dấu trùng", "Mark duplicate"));
  dup.addEventListener("click", () => act(r, { action: "duplicate", duplicate_of: dupOf.value ? Number(dupOf.value) : null }));
  const fixName = VT.el("input", { id: "fix-name", placeholder: "Họ tên đúng / Corrected name" });
  const fixBirth = VT.el("input", { id: "fix-birth", placeholder: "Ngày sinh đúng YYYY-MM-DD / Corrected birth date" });
  const fix = VT.el("button", { type: "button", id: "correct" }, VT.bi("Sửa", "Correct"));
  fix.addEventListener("click", () => act(r, { action: "correct", correction: { full_name: fixName.value, birth_date: fixBirth.value } }));
  const history = VT.el("ol", { id: "history" }, ...d.history.map((h) =>
    VT.el("li", {}, "v" + h.version + " · " + h.changed_at + " · " + h.actor + " · " + h.action + " · " + h.reason)));
  panel.replaceChildren(
    VT.el("h2", {}, VT.bi("So sánh", "Side by side")),
    VT.el("p", {}, r.vaccine_code + " · mũi/dose " + r.dose_number + " · " + day(r.administered_at) + " · " + r.site_code + " · " + r.source + "/" + r.source_record_id),
    d.notes.length ? VT.el("p", { class: "warn" }, "Lưu ý / Note: " + d.notes.join(", ")) : "",
    cands.length ? table : VT.el("p", {}, VT.bi("Không có ứng viên trong CSDL dân cư", "No candidate in the registry")),
    VT.el("div", { class: "toolbar" }, reason, reject, dupOf, dup),
    VT.el("div", { class: "toolbar" }, fixName, fixBirth, fix),
    VT.el("h3", {}, VT.bi("Lịch sử thay đổi", "Change history")), history);
}

async function act(record, body) {
  const panel = document.getElementById("detail");
  body.reason = document.getElementById("reason").value;
  body.version = record.version;
  const res = await VT.api("/api/v1/vaccinations/" + record.id + "/review", body);
  const box = document.getElementById("result");
  if (!res.ok) return VT.error(box, res);
  panel.replaceChildren();
  // Reload first: load() rewrites the status box, which would wipe the confirmation.
  await load();
  box.className = "result ok";
  box.replaceChildren(VT.el("p", { id: "done" }, "Đã lưu bản ghi #" + record.id + " (v" + res.data.version + ", " + res.data.decision + ") / Saved"));
}

async function bulk(action) {
  const items = [...document.querySelectorAll(".pick:checked")].map((c) => {
    const r = rows.find((x) => x.id === Number(c.value));
    return { id: r.id, version: r.version };
  });
  const res = await VT.api("/api/v1/vaccinations/bulk-review",
    { action, items, reason: document.getElementById("bulk-reason").value });
  const box = document.getElementById("result");
  if (!res.ok) return VT.error(box, res);
  await load();
  box.className = "result ok";
  box.replaceChildren(VT.el("p", { id: "bulk-done" }, "Xong / Done: " + res.data.done.length + " · lỗi / failed: " + res.data.failed.length));
}

document.addEventListener("DOMContentLoaded", async () => {
  const me = await VT.nav();
  if (!me) return (location.href = "/login?next=/review");
  document.getElementById("filter-form").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  document.getElementById("select-all").addEventListener("change", (ev) => {
    for (const c of document.querySelectorAll(".pick")) c.checked = ev.target.checked;
  });
  document.getElementById("bulk-confirm").addEventListener("click", () => bulk("confirm_best"));
  document.getElementById("bulk-reject").addEventListener("click", () => bulk("reject"));
  await load();
});
