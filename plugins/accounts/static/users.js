// The admin users table: filters kept in the address (so a reload or a shared link shows the
// same view), pagination, per-row role and enable/disable, and bulk actions on the selection.
// Every change says what happened to whom, because role changes and disabling sign people out.

import { api } from "./api.js";
import "./session.js";
import { setStatus } from "./ui.js";
import { wireUserForms } from "./users_forms.js";

const PAGE_SIZE = 25;
const ROLE_NAMES = { admin: "Admin", examiner: "Examiner", proctor: "Proctor", candidate: "Candidate" };
const $ = (id) => document.getElementById(id);

const filters = $("user-filters");
const body = $("users-body");
const status = $("users-status");
const summary = $("users-summary");
const selectAll = $("select-all");
const bulkForm = $("bulk-form");
const rowTemplate = $("user-row");

const view = { offset: 0, total: 0, items: [] };
const selected = new Set();
let myId = null;
let generation = 0;

/** The filter values as API query parameters. */
function query() {
  const data = new FormData(filters);
  return {
    q: String(data.get("q") ?? "").trim(),
    role: data.get("role"),
    active: data.get("active"),
  };
}

/** Mirror filters and page into the address bar, without adding history entries. */
function remember() {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query())) if (value) params.set(key, value);
  if (view.offset) params.set("offset", String(view.offset));
  const search = params.toString();
  history.replaceState(null, "", search ? `?${search}` : location.pathname);
}

function restore() {
  const params = new URLSearchParams(location.search);
  for (const name of ["q", "role", "active"]) {
    const control = filters.elements.namedItem(name);
    if (control && params.has(name)) control.value = params.get(name);
  }
  view.offset = Math.max(0, Number(params.get("offset")) || 0);
}

function badge(active) {
  const span = document.createElement("span");
  span.className = `badge ${active ? "badge--success" : "badge--danger"}`;
  span.textContent = active ? "Active" : "Disabled";
  return span;
}

/** One table row from the template; the signed-in admin's own row cannot lock them out. */
function row(user) {
  const tr = rowTemplate.content.firstElementChild.cloneNode(true);
  const isMe = String(user.id) === String(myId);
  tr.dataset.id = user.id;
  const check = tr.querySelector(".row-select");
  check.value = user.id;
  check.checked = selected.has(user.id);
  check.setAttribute("aria-label", `Select ${user.display_name}`);
  tr.querySelector(".user-name").textContent = user.display_name + (isMe ? " (you)" : "");
  tr.querySelector(".user-email").textContent = user.email;
  const role = tr.querySelector(".row-role");
  role.value = user.role;
  role.setAttribute("aria-label", `Role of ${user.display_name}`);
  tr.querySelector(".user-state").append(badge(user.is_active));
  const toggle = tr.querySelector(".row-toggle");
  toggle.textContent = user.is_active ? "Disable" : "Enable";
  toggle.setAttribute("aria-label", `${user.is_active ? "Disable" : "Enable"} ${user.display_name}`);
  for (const control of [check, role, toggle]) control.disabled = isMe;
  if (isMe) toggle.title = "You cannot disable or demote your own account here.";
  return tr;
}

function updateSelection() {
  const boxes = [...body.querySelectorAll(".row-select:not(:disabled)")];
  const count = boxes.filter((box) => box.checked).length;
  selectAll.checked = count > 0 && count === boxes.length;
  selectAll.indeterminate = count > 0 && count < boxes.length;
  $("bulk-count").textContent = count
    ? `${count} user${count === 1 ? "" : "s"} selected.`
    : "No users selected.";
  $("bulk-apply").disabled = count === 0;
}

function renderTable() {
  body.replaceChildren();
  if (!view.items.length) {
    const tr = body.insertRow();
    const cell = tr.insertCell();
    cell.colSpan = 6;
    cell.className = "muted";
    cell.textContent = "No users match these filters. Clear the filters to see everyone.";
  }
  for (const user of view.items) body.append(row(user));
  const first = view.total ? view.offset + 1 : 0;
  const last = view.offset + view.items.length;
  summary.textContent = view.total
    ? `Showing ${first}–${last} of ${view.total} user${view.total === 1 ? "" : "s"}.`
    : "No users to show.";
  $("page-prev").disabled = view.offset === 0;
  $("page-next").disabled = last >= view.total;
  updateSelection();
}

/** Fetch the current page; an older answer arriving late is dropped. */
export async function load() {
  const mine = ++generation;
  body.setAttribute("aria-busy", "true");
  try {
    const data = await api("/api/v1/users", {
      query: { ...query(), limit: PAGE_SIZE, offset: view.offset },
    });
    if (mine !== generation) return;
    if (!data.items.length && view.offset > 0 && data.total > 0) {
      view.offset = Math.max(0, Math.floor((data.total - 1) / PAGE_SIZE) * PAGE_SIZE);
      load();
      return;
    }
    view.items = data.items;
    view.total = data.total;
    selected.clear();
    remember();
    renderTable();
  } catch (error) {
    if (mine === generation) setStatus(status, `The users could not be loaded. ${error.message}`, "danger");
  } finally {
    if (mine === generation) body.removeAttribute("aria-busy");
  }
}

const userById = (id) => view.items.find((user) => String(user.id) === String(id));

/** PATCH one user and report it; `done` words the success. */
async function patchUser(user, change, progress, done) {
  setStatus(status, progress, "progress");
  try {
    const updated = await api(`/api/v1/users/${user.id}`, { method: "PATCH", json: change });
    Object.assign(user, updated);
    setStatus(status, done, "success");
  } catch (error) {
    setStatus(status, `Nothing was changed for ${user.display_name}. ${error.message}`, "danger");
  }
  renderTable();
}

body.addEventListener("change", (event) => {
  const tr = event.target.closest("tr");
  const user = tr && userById(tr.dataset.id);
  if (!user) return;
  if (event.target.classList.contains("row-select")) {
    if (event.target.checked) selected.add(user.id);
    else selected.delete(user.id);
    updateSelection();
  } else if (event.target.classList.contains("row-role")) {
    const role = event.target.value;
    const name = ROLE_NAMES[role] ?? role;
    patchUser(user, { role }, `Changing the role of ${user.display_name}…`,
      `${user.display_name} is now ${name}. They were signed out and must sign in again.`);
  }
});

body.addEventListener("click", (event) => {
  const button = event.target.closest(".row-toggle");
  const user = button && userById(button.closest("tr").dataset.id);
  if (!user) return;
  const enable = !user.is_active;
  patchUser(user, { is_active: enable },
    `${enable ? "Enabling" : "Disabling"} ${user.display_name}…`,
    enable
      ? `${user.display_name} is enabled and can sign in again.`
      : `${user.display_name} is disabled and was signed out.`);
});

selectAll.addEventListener("change", () => {
  for (const box of body.querySelectorAll(".row-select:not(:disabled)")) {
    box.checked = selectAll.checked;
    if (box.checked) selected.add(userById(box.value).id);
    else selected.delete(userById(box.value).id);
  }
  updateSelection();
});

bulkForm.elements.action.addEventListener("change", () => {
  $("bulk-role").hidden = bulkForm.elements.action.value !== "set_role";
});

bulkForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const ids = [...selected];
  if (!ids.length) return;
  const action = bulkForm.elements.action.value;
  const role = bulkForm.elements.role.value;
  const count = `${ids.length} user${ids.length === 1 ? "" : "s"}`;
  const words = { disable: "Disabling", enable: "Enabling", set_role: "Changing the role of" };
  setStatus(status, `${words[action]} ${count}…`, "progress");
  $("bulk-apply").disabled = true;
  try {
    const json = { user_ids: ids, action, ...(action === "set_role" ? { role } : {}) };
    const result = await api("/api/v1/users/bulk", { method: "POST", json });
    const updated = result?.updated ?? ids.length;
    const what = { disable: "disabled and signed out", enable: "enabled", set_role: `set to ${ROLE_NAMES[role]}` };
    setStatus(status, `Done: ${updated} user${updated === 1 ? "" : "s"} ${what[action]}.`, "success");
    await load();
  } catch (error) {
    setStatus(status, `Nothing was changed. ${error.message}`, "danger");
    updateSelection();
  }
});

let typing = null;
filters.elements.q.addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(() => { view.offset = 0; load(); }, 300);
});
for (const name of ["role", "active"]) {
  filters.elements[name].addEventListener("change", () => { view.offset = 0; load(); });
}
filters.addEventListener("submit", (event) => {
  event.preventDefault();
  view.offset = 0;
  load();
});
filters.addEventListener("reset", () => setTimeout(() => { view.offset = 0; load(); }));
$("page-prev").addEventListener("click", () => {
  view.offset = Math.max(0, view.offset - PAGE_SIZE);
  load();
});
$("page-next").addEventListener("click", () => {
  view.offset += PAGE_SIZE;
  load();
});

restore();
wireUserForms(load);
api("/api/v1/auth/me").then((me) => { myId = me?.user?.id ?? null; }).catch(() => {}).finally(load);
