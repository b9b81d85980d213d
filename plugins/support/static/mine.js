// A candidate's tickets and the form to ask something new outside an exam.

import { api } from "../accounts/api.js";
import { API, CATEGORY_WORDS, age, el, poller, statusBadge } from "./common.js";

const root = document.getElementById("support-mine");
const list = document.getElementById("ticket-list");
const empty = document.getElementById("ticket-empty");
const form = /** @type {HTMLFormElement} */ (document.getElementById("new-ticket"));
const message = /** @type {HTMLTextAreaElement} */ (document.getElementById("new-message"));
const statusLine = document.getElementById("new-status");

function say(text, kind = "info") {
  statusLine.replaceChildren();
  if (text) statusLine.append(el("p", `alert alert--${kind}`, text));
}

function item(ticket) {
  const li = el("li", ticket.unread ? "ticket-item ticket-item--unread" : "ticket-item");
  const head = el("p", "ticket-item__head");
  if (ticket.unread) head.append(el("span", "badge badge--danger ticket-new", "New reply"), " ");
  const link = el("a", "", ticket.subject);
  link.href = `/support/tickets/${ticket.id}`;
  head.append(link);
  const meta = el("p", "muted ticket-item__meta");
  meta.append(statusBadge(ticket.status), ` ${CATEGORY_WORDS[ticket.category] ?? ticket.category}`);
  if (ticket.exam_title) meta.append(` · ${ticket.exam_title}`);
  meta.append(` · ${age(ticket.last_message_at)}`);
  li.append(head, meta);
  return li;
}

poller(() => API, (data) => {
  list.replaceChildren(...data.tickets.map(item));
  empty.hidden = data.tickets.length > 0;
}, Number(root.dataset.poll) || 5);

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const slot = document.getElementById("new-message-error");
  slot.hidden = true;
  message.removeAttribute("aria-invalid");
  const data = new FormData(form);
  const text = String(data.get("message") ?? "").trim();
  if (!text) {
    slot.textContent = "Write what you need help with first.";
    slot.hidden = false;
    message.setAttribute("aria-invalid", "true");
    message.focus();
    return;
  }
  say("Sending…");
  try {
    const ticket = await api(API, {
      method: "POST",
      json: { category: data.get("category"), subject: String(data.get("subject") ?? ""), message: text },
    });
    location.assign(`/support/tickets/${ticket.id}`);
  } catch (error) {
    say(error.message, "danger");
  }
});
