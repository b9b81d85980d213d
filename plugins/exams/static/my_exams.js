// My exams: each assigned exam with its state, window and attempts, and what I can do next.

import { api } from "../accounts/api.js";
import { formatDateTime, setStatus } from "../accounts/ui.js";

const list = document.getElementById("exam-list");
const status = document.getElementById("exams-status");
const STATE = { open: ["Open", "success"], upcoming: ["Not open yet", "info"], closed: ["Closed", "warning"] };

/** @param {string} tag @param {string} [className] @param {string} [text] */
function el(tag, className = "", text = "") {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

function link(href, text, primary) {
  const a = el("a", `btn ${primary ? "btn--primary" : "btn--secondary"}`, text);
  a.href = href;
  return a;
}

async function start(exam, button) {
  button.disabled = true;
  setStatus(status, `Starting ${exam.title}…`, "progress");
  try {
    const attempt = await api(`/api/v1/my/exams/${exam.id}/attempts`, { method: "POST" });
    location.assign(`/exams/attempt/${attempt.id}`);
  } catch (error) {
    button.disabled = false;
    setStatus(status, error.message, "danger");
  }
}

function card(exam) {
  const li = el("li", "card exam-card");
  const head = el("div", "exam-card__head");
  head.append(el("h2", "card__title", exam.title));
  const [label, kind] = STATE[exam.state];
  head.append(el("span", `badge badge--${exam.in_progress_attempt_id ? "info" : kind}`,
    exam.in_progress_attempt_id ? "In progress" : label));
  li.append(head);
  if (exam.description) li.append(el("p", "", exam.description));
  const facts = el("dl", "facts");
  const minutes = exam.duration_minutes + exam.extra_time_minutes;
  const add = (term, value) => { facts.append(el("dt", "", term), el("dd", "", value)); };
  add("Time allowed", `${minutes} minutes${exam.extra_time_minutes ? ` (includes ${exam.extra_time_minutes} extra)` : ""}`);
  if (exam.opens_at) add("Opens", formatDateTime(exam.opens_at));
  if (exam.closes_at) add("Closes", formatDateTime(exam.closes_at));
  add("Attempts left", `${exam.attempts_left} of ${exam.attempts_allowed}`);
  li.append(facts);
  const actions = el("div", "cluster");
  if (exam.in_progress_attempt_id) {
    actions.append(link(`/exams/attempt/${exam.in_progress_attempt_id}`, "Resume exam", true));
  } else if (exam.state === "open" && exam.attempts_left > 0 && exam.proctored) {
    // Proctored: consent and the system check come first; that page starts the attempt.
    actions.append(link(`/exams/${exam.id}/check`, exam.attempts_used ? "Start another attempt" : "Start exam", true));
    li.append(el("p", "muted", "This exam is proctored: you first agree to proctoring and check your camera and microphone. The timer starts when you press Start exam there."));
  } else if (exam.state === "open" && exam.attempts_left > 0) {
    const button = el("button", "btn btn--primary", exam.attempts_used ? "Start another attempt" : "Start exam");
    button.type = "button";
    button.addEventListener("click", () => start(exam, button));
    actions.append(button);
    li.append(el("p", "muted", "The timer starts as soon as you press Start and keeps running if you close the page."));
  }
  if (exam.last_attempt_id && !exam.in_progress_attempt_id) {
    actions.append(link(`/exams/attempt/${exam.last_attempt_id}/result`,
      exam.result_released ? "View result" : "Result status", false));
  }
  if (actions.childElementCount) li.append(actions);
  return li;
}

async function main() {
  try {
    const exams = await api("/api/v1/my/exams");
    list.replaceChildren(...exams.map(card));
    setStatus(status, exams.length ? "" : "No exams are assigned to you yet. Your examiner assigns them.", "info");
  } catch (error) {
    setStatus(status, error.message, "danger");
  }
}

main();
