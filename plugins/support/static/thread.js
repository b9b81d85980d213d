// One conversation: messages oldest first with each author's role, the reply box, and close or
// reopen. New messages arrive by polling the ticket (a 304 while nothing changed); the ticket
// is marked read for the reader's side whenever the other side's news is on screen.

import { api } from "../accounts/api.js";
import { API, CATEGORY_WORDS, drawThread, el, poller, statusBadge, when } from "./common.js";

const root = document.getElementById("ticket");
const ticketId = root.dataset.ticket;
const staff = root.dataset.staff === "true";
const $ = (id) => document.getElementById(id);
const form = /** @type {HTMLFormElement} */ ($("reply-form"));
const body = /** @type {HTMLTextAreaElement} */ ($("reply-body"));
const statusLine = $("reply-status");
let ticket = null;

function say(text, kind = "info") {
  statusLine.replaceChildren();
  if (text) statusLine.append(el("p", `alert alert--${kind}`, text));
}

function draw() {
  const meta = $("ticket-meta");
  meta.replaceChildren(statusBadge(ticket.status));
  const parts = [CATEGORY_WORDS[ticket.category] ?? ticket.category];
  if (staff) parts.push(ticket.candidate_name);
  if (ticket.exam_title) parts.push(ticket.exam_title);
  if (ticket.item !== null && ticket.item !== undefined) parts.push(`question ${ticket.item + 1}`);
  if (staff && ticket.attempt_id) parts.push(`attempt ${ticket.attempt_id}`);
  parts.push(`opened ${when(ticket.created_at)}`);
  meta.append(` ${parts.join(" · ")}`);
  if (staff && ticket.attempt_id) {
    const link = el("a", "", "Watch the attempt");
    link.href = `/proctor/attempts/${encodeURIComponent(ticket.attempt_id)}`;
    meta.append(" · ", link);
  }
  drawThread($("thread"), ticket.messages ?? [], (m) => (m.author_role === "candidate") !== staff);
  const closed = ticket.status === "closed";
  $("close-ticket").hidden = closed;
  $("reopen-ticket").hidden = !closed;
  $("reply-body").disabled = closed && staff;
  form.querySelector("[type=submit]").disabled = closed && staff;
  if (closed && !staff) $("reply-body").placeholder = "Writing again reopens this ticket.";
  if (ticket.unread) {
    ticket.unread = false;
    api(`${API}/${ticketId}/read`, { method: "POST" }).catch(() => {});
  }
}

const poll = poller(() => `${API}/${ticketId}`, (data) => { ticket = data; draw(); }, Number(root.dataset.poll) || 5);

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = body.value.trim();
  const slot = $("reply-body-error");
  slot.hidden = true;
  body.removeAttribute("aria-invalid");
  if (!text) {
    slot.textContent = "Write a reply first.";
    slot.hidden = false;
    body.setAttribute("aria-invalid", "true");
    body.focus();
    return;
  }
  say("Sending…");
  try {
    ticket = await api(`${API}/${ticketId}/messages`, { method: "POST", json: { body: text } });
    body.value = "";
    say("Sent.", "success");
    draw();
    poll.now();
  } catch (error) {
    say(error.message, "danger");
  }
});

async function setStatus(status) {
  try {
    ticket = await api(`${API}/${ticketId}/status`, { method: "PUT", json: { status } });
    say(status === "closed" ? "Ticket closed." : "Ticket reopened.", "success");
    draw();
    poll.now();
  } catch (error) {
    say(error.message, "danger");
  }
}

$("close-ticket").addEventListener("click", () => setStatus("closed"));
$("reopen-ticket").addEventListener("click", () => setStatus("open"));
