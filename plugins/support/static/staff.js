// The staff queue: every ticket matching the filters, newest activity first, with unread ones
// marked by an icon and a word. The table refreshes by polling (a 304 while nothing changed);
// changing a filter asks at once.

import { API, CATEGORY_WORDS, age, el, poller, statusBadge } from "./common.js";

const filters = /** @type {HTMLFormElement} */ (document.getElementById("ticket-filters"));
const rows = document.getElementById("ticket-rows");
const count = document.getElementById("ticket-count");

function address() {
  const url = new URL(API, location.origin);
  const data = new FormData(filters);
  for (const name of ["status", "exam_id", "older_than_minutes"]) {
    const value = String(data.get(name) ?? "");
    if (value) url.searchParams.set(name, value);
  }
  if (data.get("unread")) url.searchParams.set("unread", "true");
  return url.pathname + url.search;
}

function row(ticket) {
  const tr = el("tr", ticket.unread ? "ticket-row ticket-row--unread" : "ticket-row");
  tr.dataset.ticket = String(ticket.id);
  const subject = el("td");
  if (ticket.unread) subject.append(el("span", "badge badge--danger ticket-new", "New"), " ");
  const link = el("a", "", ticket.subject);
  link.href = `/support/tickets/${ticket.id}`;
  subject.append(link);
  const exam = el("td", "", ticket.exam_title ?? "—");
  if (ticket.item !== null && ticket.item !== undefined) exam.append(el("span", "muted", ` · Q${ticket.item + 1}`));
  const status = el("td");
  status.append(statusBadge(ticket.status));
  const last = el("td", "", age(ticket.last_message_at));
  last.append(el("span", "muted", ` · ${ticket.last_message_role === "candidate" ? "candidate" : "staff"}`));
  tr.append(subject, el("td", "", ticket.candidate_name), exam,
    el("td", "", CATEGORY_WORDS[ticket.category] ?? ticket.category), status, last);
  return tr;
}

const poll = poller(address, (data) => {
  rows.replaceChildren(...data.tickets.map(row));
  const unread = data.unread ? `, ${data.unread} unread` : "";
  count.textContent = `${data.tickets.length} ${data.tickets.length === 1 ? "ticket" : "tickets"}${unread}`;
}, Number(filters.dataset.poll) || 5);

filters.addEventListener("change", () => poll.now());
filters.addEventListener("submit", (event) => { event.preventDefault(); poll.now(); });
