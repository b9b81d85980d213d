// The exam page: one question at a time, navigation with answered/flagged marks, the timer,
// a save-state line, autosave through the outbox, and submit with a confirmation dialog.

import { api } from "../accounts/api.js";
import { Outbox, drain } from "./outbox.js";
import { isBlank, readResponse, renderQuestion } from "./questions.js";
import { startTimer } from "./timer.js";

const SAVE_DELAY_MS = 600;
const $ = (id) => document.getElementById(id);
const root = $("exam");
const attemptId = root.dataset.attempt;
const positionKey = `inv-exam-pos:${attemptId}`;
const form = $("question-form");

/** @type {{items: any[], navigation: string, deadline_at: string}} */
let view = null;
let current = 0;
let saveTimer = null;
let finished = false;

const outbox = new Outbox(attemptId, {
  onState: showSaveState,
  onSaved: () => drawNav(),
  onClosed: () => finish("Time is up. Your answers were submitted."),
  onRejected: (item, message) => showStatus(`Question ${item + 1} was not saved: ${message}`),
});

function showStatus(message, kind = "danger") {
  const region = $("exam-status");
  region.replaceChildren();
  if (!message) return;
  const box = document.createElement("p");
  box.className = `alert alert--${kind}`;
  box.textContent = message;
  region.append(box);
}

/** @param {import("./outbox.js").OutboxState} state */
function showSaveState(state) {
  const line = $("save-state");
  const offline = state.offline || !navigator.onLine;
  $("offline-banner").hidden = !offline;
  let text = "All answers saved";
  if (state.error) text = state.error;
  else if (offline && state.pending) {
    text = `Offline — ${state.pending} ${state.pending === 1 ? "answer" : "answers"} will be sent when you reconnect`;
  } else if (offline) text = "Offline — reconnect to keep saving";
  else if (state.sending || state.pending) text = "Saving…";
  if (line.textContent !== text) line.textContent = text;
  line.dataset.state = offline ? "offline" : state.pending || state.sending ? "saving" : "saved";
}

/** The answer shown for an item: the newest of the server's and this device's. */
function answerOf(item) {
  return outbox.get(item) ?? null;
}

function drawNav() {
  const list = $("item-nav");
  list.replaceChildren();
  for (const entry of view.items) {
    const answer = answerOf(entry.item);
    const answered = answer && !isBlank(answer.response);
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "exam-nav__item";
    button.dataset.item = String(entry.item);
    const marks = [answered ? "answered" : "not answered"];
    if (answer?.flagged) marks.push("flagged");
    if (entry.locked) marks.push("locked until earlier questions are answered or skipped");
    button.setAttribute("aria-label", `Question ${entry.item + 1}, ${marks.join(", ")}`);
    button.textContent = String(entry.item + 1);
    button.classList.toggle("is-answered", Boolean(answered));
    button.classList.toggle("is-flagged", Boolean(answer?.flagged));
    button.disabled = entry.locked;
    if (entry.item === current) button.setAttribute("aria-current", "step");
    button.addEventListener("click", () => go(entry.item));
    li.append(button);
    list.append(li);
  }
}

function drawQuestion() {
  const entry = view.items[current];
  const question = entry.question;
  const section = view.sections[entry.section] ?? "";
  $("question-meta").textContent =
    `Question ${current + 1} of ${view.items.length}${section ? ` · ${section}` : ""} · ${entry.points} ${entry.points === 1 ? "point" : "points"}`;
  $("question-title").textContent = question.title;
  // body_html is Markdown rendered and sanitised on the server (plugins/questions/rendering.py).
  if (question.body_html) $("question-body").innerHTML = question.body_html;
  else $("question-body").textContent = question.body;
  renderQuestion(form, question, answerOf(current)?.response ?? null);
  $("flag").checked = Boolean(answerOf(current)?.flagged);
  $("prev").disabled = current === 0;
  $("next").disabled = current === view.items.length - 1;
  try { localStorage.setItem(positionKey, String(current)); } catch { /* private mode */ }
  drawNav();
}

/** Record the form's answer now (if it changed) and send it. */
function saveNow() {
  clearTimeout(saveTimer);
  saveTimer = null;
  const { response, error } = readResponse(form);
  const slot = $("answer-error");
  if (slot) { slot.hidden = !error; slot.textContent = error ?? ""; }
  if (error) return;
  const flagged = $("flag").checked;
  const before = answerOf(current);
  if (before && JSON.stringify(before.response) === JSON.stringify(response) && before.flagged === flagged) return;
  if (!before && isBlank(response) && !flagged) return;
  outbox.record(current, response, flagged);
  drawNav();
  outbox.flush();
}

function saveSoon() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(saveNow, SAVE_DELAY_MS);
}

/** Go to another item; under sequential navigation a locked one first needs this one saved. */
async function go(item) {
  if (item < 0 || item >= view.items.length || item === current) return;
  saveNow();
  if (view.items[item].locked) {
    if (!answerOf(current)) outbox.record(current, readResponse(form).response ?? {}, $("flag").checked);
    if (!(await drain(outbox))) {
      showStatus("The next question opens once this answer reaches the server. Check your connection, then press Next again.", "warning");
      return;
    }
    await load();
    if (view.items[item].locked) return;
  }
  showStatus("");
  current = item;
  drawQuestion();
  $("question-title").focus();
}

async function load() {
  const sentAt = Date.now();
  view = await api(`/api/v1/attempts/${attemptId}`);
  for (const entry of view.items) outbox.reconcile(entry.item, entry.answer);
  return sentAt;
}

function finish(message) {
  if (finished) return;
  finished = true;
  for (const control of root.querySelectorAll("button, input, select, textarea")) control.disabled = true;
  showStatus(`${message} Taking you to your result…`, "info");
  setTimeout(() => location.assign(`/exams/attempt/${attemptId}/result`), 2500);
}

function openSubmit() {
  saveNow();
  const unanswered = view.items.filter((e) => isBlank(answerOf(e.item)?.response)).map((e) => e.item);
  const flagged = view.items.filter((e) => answerOf(e.item)?.flagged).map((e) => e.item);
  $("submit-summary").textContent = unanswered.length || flagged.length
    ? "Check these before you submit:" : "Every question has an answer.";
  const lists = $("submit-lists");
  lists.replaceChildren();
  for (const [label, items] of [["Not answered", unanswered], ["Flagged for review", flagged]]) {
    if (!items.length) continue;
    const heading = document.createElement("h3");
    heading.textContent = `${label} (${items.length})`;
    const list = document.createElement("ul");
    list.className = "cluster submit-list";
    for (const item of items) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn--secondary";
      button.textContent = `Question ${item + 1}`;
      button.addEventListener("click", () => { $("submit-dialog").close(); go(item); });
      li.append(button);
      list.append(li);
    }
    lists.append(heading, list);
  }
  $("submit-status").replaceChildren();
  $("submit-dialog").showModal();
}

async function submit() {
  const status = $("submit-status");
  const say = (text, kind) => {
    status.replaceChildren();
    const p = document.createElement("p");
    p.className = kind === "progress" ? "form-status__progress" : `alert alert--${kind}`;
    p.textContent = text;
    status.append(p);
  };
  $("confirm-submit").disabled = true;
  say("Sending your last answers…", "progress");
  if (!(await drain(outbox))) {
    $("confirm-submit").disabled = false;
    if (!outbox.closed) say("Some answers have not reached the server. Check your connection, then press Submit now again.", "warning");
    return;
  }
  try {
    await api(`/api/v1/attempts/${attemptId}/submit`, { method: "POST" });
    try { localStorage.removeItem(positionKey); } catch { /* nothing to clear */ }
    location.assign(`/exams/attempt/${attemptId}/result`);
  } catch (error) {
    $("confirm-submit").disabled = false;
    say(error.message, "danger");
  }
}

async function main() {
  let sentAt;
  try {
    sentAt = await load();
  } catch (error) {
    $("save-state").textContent = "";
    showStatus(`${error.message} Your answers on this device are kept.`, "danger");
    return;
  }
  if (view.status !== "in_progress") {
    finish("This attempt is already submitted.");
    return;
  }
  const saved = Number(localStorage.getItem(positionKey) ?? 0);
  current = view.items[saved] && !view.items[saved].locked ? saved : 0;
  drawQuestion();
  startTimer({
    deadlineAt: view.deadline_at, serverNow: view.server_now, sentAt,
    display: $("timer"), announce: $("time-announce"),
    onExpired: async () => {
      await drain(outbox, 5000);
      await api(`/api/v1/attempts/${attemptId}/submit`, { method: "POST" }).catch(() => null);
      finish("Time is up. Your answers were submitted.");
    },
  });
  form.addEventListener("input", saveSoon);
  form.addEventListener("change", saveSoon);
  form.addEventListener("submit", (event) => { event.preventDefault(); saveNow(); });
  $("flag").addEventListener("change", saveNow);
  $("prev").addEventListener("click", () => go(current - 1));
  $("next").addEventListener("click", () => go(current + 1));
  $("open-submit").addEventListener("click", openSubmit);
  $("confirm-submit").addEventListener("click", submit);
  $("cancel-submit").addEventListener("click", () => $("submit-dialog").close());
  window.addEventListener("pagehide", saveNow);
  outbox.flush(); // anything left from before a refresh or a crash
}

main();
