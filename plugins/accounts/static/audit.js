// The audit log table: filters (event kind, user id, a time window) and pagination. Times are
// entered and shown in the reader's time zone and sent to the API in UTC.

import { api } from "./api.js";
import "./session.js";
import { clearErrors, fieldError, focusFirstError, formatDateTime, setStatus } from "./ui.js";

const PAGE_SIZE = 50;
const $ = (id) => document.getElementById(id);

const filters = $("audit-filters");
const body = $("audit-body");
const status = $("audit-status");
const view = { offset: 0, total: 0 };
let generation = 0;

/** A datetime-local value ("2026-05-01T09:00", local time) as an ISO instant, or "". */
function toIso(value) {
  if (!value) return "";
  const when = new Date(value);
  return Number.isNaN(when.getTime()) ? "" : when.toISOString();
}

/** The filters as query parameters, or null after marking what is wrong. */
function query() {
  clearErrors(filters);
  const userId = filters.elements.user_id.value.trim();
  if (userId && !/^\d+$/.test(userId)) {
    fieldError(filters, "user_id", "A user id is a number, shown in the User column.");
  }
  const since = toIso(filters.elements.since.value);
  const until = toIso(filters.elements.until.value);
  if (since && until && since > until) {
    fieldError(filters, "until", "Choose an end that comes after the start.");
  }
  if (filters.querySelector('[aria-invalid="true"]')) {
    focusFirstError(filters);
    return null;
  }
  return { kind: filters.elements.kind.value, user_id: userId, since, until };
}

function cell(tr, text, className = "") {
  const td = tr.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** Details as short "key: value" pairs rather than raw JSON. */
function describe(details) {
  if (!details || typeof details !== "object") return "";
  return Object.entries(details)
    .map(([key, value]) => `${key.replaceAll("_", " ")}: ${typeof value === "object" ? JSON.stringify(value) : value}`)
    .join("; ");
}

const LABELS = ["Time", "Event", "User", "By", "Address", "Details"];

function render(items) {
  body.replaceChildren();
  if (!items.length) {
    const tr = body.insertRow();
    cell(tr, "No events match these filters. Widen the time window or clear the filters.", "muted").colSpan = 6;
  }
  for (const event of items) {
    const tr = body.insertRow();
    const when = event.ts ?? event.time ?? event.created_at;
    const time = document.createElement("time");
    time.dateTime = when ?? "";
    time.textContent = formatDateTime(when);
    tr.insertCell().append(time);
    const kind = document.createElement("code");
    kind.textContent = event.kind;
    tr.insertCell().append(kind);
    cell(tr, event.user_id ?? "—");
    cell(tr, event.actor_id ?? "—");
    cell(tr, event.ip || "—");
    cell(tr, describe(event.details) || "—", "audit-table__details");
    // Phones show each row as a card; the labels stand in for the hidden column headers.
    [...tr.cells].forEach((td, index) => { td.dataset.label = LABELS[index]; });
  }
  const first = view.total ? view.offset + 1 : 0;
  const last = view.offset + items.length;
  $("audit-summary").textContent = view.total
    ? `Showing ${first}–${last} of ${view.total} event${view.total === 1 ? "" : "s"}.`
    : "No events to show.";
  $("audit-prev").disabled = view.offset === 0;
  $("audit-next").disabled = last >= view.total;
}

async function load() {
  const params = query();
  if (!params) {
    setStatus(status, "Correct the filters, then apply them again.", "danger");
    return;
  }
  const mine = ++generation;
  setStatus(status, "");
  body.setAttribute("aria-busy", "true");
  try {
    const data = await api("/api/v1/audit", { query: { ...params, limit: PAGE_SIZE, offset: view.offset } });
    if (mine !== generation) return;
    view.total = data.total;
    render(data.items);
  } catch (error) {
    if (mine === generation) setStatus(status, `The audit log could not be loaded. ${error.message}`, "danger");
  } finally {
    if (mine === generation) body.removeAttribute("aria-busy");
  }
}

filters.addEventListener("submit", (event) => {
  event.preventDefault();
  view.offset = 0;
  load();
});
filters.addEventListener("reset", () => setTimeout(() => { view.offset = 0; load(); }));
filters.elements.kind.addEventListener("change", () => { view.offset = 0; load(); });
$("audit-prev").addEventListener("click", () => {
  view.offset = Math.max(0, view.offset - PAGE_SIZE);
  load();
});
$("audit-next").addEventListener("click", () => {
  view.offset += PAGE_SIZE;
  load();
});

const params = new URLSearchParams(location.search);
if (params.get("user_id")) filters.elements.user_id.value = params.get("user_id");
if (params.get("kind")) filters.elements.kind.value = params.get("kind");
load();
