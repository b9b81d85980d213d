// The exam page's "Need help?" panel. The candidate writes to the exam staff without leaving
// the exam; the ticket carries the attempt and the question on screen. Replies arrive by
// polling this attempt's tickets (a 304 while nothing changed), and the button says "new
// reply" while the panel is shut. Nothing is polled until the candidate has asked something.
// The newest ticket of the attempt is the conversation shown; once it is closed, writing
// again reopens it, or "Ask something new" starts another.

import { api } from "../accounts/api.js";
import { API, drawThread, el, poller, statusBadge } from "./common.js";

const dock = document.getElementById("help-dock");
const attemptId = dock.dataset.attempt;
const $ = (id) => document.getElementById(id);
const panel = $("help-panel");
const openButton = $("help-open");
const form = /** @type {HTMLFormElement} */ ($("help-form"));
const message = /** @type {HTMLTextAreaElement} */ ($("help-message"));
const thread = $("help-thread");
const CLOSED_SLOWER = 6;  // a closed ticket only changes if staff reopen it
const statusLine = $("help-status");

let ticket = null;  // the conversation on show (with messages), null: a new question
let fresh = false;  // "Ask something new" was pressed: ignore the newest ticket until sent

/** The question on screen, from the exam page's own navigation (null between questions). */
function currentItem() {
  const button = document.querySelector('#item-nav [aria-current="step"]');
  const item = Number(button?.getAttribute("data-item"));
  return Number.isInteger(item) && item >= 0 ? item : null;
}

function say(text, kind = "info") {
  statusLine.replaceChildren();
  if (text) statusLine.append(el("p", `alert alert--${kind}`, text));
}

function draw() {
  const showing = ticket && !fresh;
  $("help-category-field").hidden = Boolean(showing);
  $("help-message-label").textContent = showing ? "Reply" : "Message";
  $("help-send").textContent = showing ? "Send reply" : "Send";
  thread.hidden = !showing;
  const old = panel.querySelector(".help-panel__state");
  old?.remove();
  if (!showing) {
    $("help-news").hidden = true;
    return;
  }
  drawThread(thread, ticket.messages ?? [], (m) => m.author_role === "candidate");
  const state = el("p", "help-panel__state");
  state.append(statusBadge(ticket.status));
  if (ticket.status === "closed") {
    state.append(" Closed. Writing here reopens it. ");
    const again = el("button", "btn btn--secondary btn--small", "Ask something new");
    again.type = "button";
    again.addEventListener("click", () => { fresh = true; draw(); message.focus(); });
    state.append(again);
  }
  thread.before(state);
  const news = ticket.unread && panel.hidden;
  $("help-news").hidden = !news;
  if (ticket.unread && !panel.hidden) markRead();
}

async function markRead() {
  const id = ticket.id;
  ticket.unread = false;
  try {
    await api(`${API}/${id}/read`, { method: "POST" });
  } catch {
    /* the marker is a nicety; the next poll shows the reply again */
  }
}

function showPanel(open) {
  panel.hidden = !open;
  openButton.setAttribute("aria-expanded", String(open));
  if (open) {
    draw();
    message.focus();
  } else {
    openButton.focus();
  }
}

const poll = poller(
  () => `${API}?attempt_id=${encodeURIComponent(attemptId)}&messages=true&limit=5`,
  (data) => {
    const before = ticket?.message_count ?? 0;
    ticket = data.tickets?.[0] ?? null;
    if (ticket && ticket.message_count > before && ticket.last_message_role === "staff") say("");
    // Staff never start a conversation, so with nothing asked there is nothing to wait for:
    // most candidates never ask, and a hall of them behind one address must not poll.
    if (!ticket) poll.stop();
    poll.slow(ticket?.status === "closed" ? CLOSED_SLOWER : 1);
    draw();
  },
  5,
);

openButton.addEventListener("click", () => showPanel(panel.hidden));
$("help-close").addEventListener("click", () => showPanel(false));
panel.addEventListener("keydown", (event) => {
  if (event.key === "Escape") showPanel(false);
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = message.value.trim();
  const slot = $("help-message-error");
  slot.hidden = true;
  message.removeAttribute("aria-invalid");
  if (!text) {
    slot.textContent = "Write what you need help with first.";
    slot.hidden = false;
    message.setAttribute("aria-invalid", "true");
    message.focus();
    return;
  }
  say("Sending…");
  try {
    if (ticket && !fresh) {
      ticket = await api(`${API}/${ticket.id}/messages`, { method: "POST", json: { body: text } });
    } else {
      const category = /** @type {HTMLSelectElement} */ ($("help-category")).value;
      ticket = await api(API, {
        method: "POST",
        json: { category, message: text, attempt_id: attemptId, item: currentItem() },
      });
      fresh = false;
    }
    message.value = "";
    say("Sent. The staff will answer here.", "success");
    draw();
    poll.now();
  } catch (error) {
    say(error.message, "danger");
  }
});
