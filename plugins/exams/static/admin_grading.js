// Examiner: the manual grading queue. Each waiting answer shows its question, the candidate's
// response, rubric marks (each within its criterion's points), a total, feedback and Save; the
// outcome of every save is said next to the item it concerns.

import { api } from "../accounts/api.js";
import { formatDateTime, sentence, setStatus } from "../accounts/ui.js";

const PAGE_SIZE = 20;
const root = document.getElementById("admin-root");
const status = document.getElementById("page-status");
const view = { offset: 0, total: 0 };

/**
 * A new element with an optional class and text.
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElement}
 */
function el(tag, className = "", text = "") {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

/**
 * A labelled number input with its error slot.
 * @param {string} id
 * @param {string} label
 * @param {number} max
 * @param {string} [hint]
 * @returns {{box: HTMLElement, input: HTMLInputElement, error: HTMLElement}}
 */
function numberField(id, label, max, hint = "") {
  const box = el("div", "field");
  const text = el("label", "", label);
  text.htmlFor = id;
  const input = /** @type {HTMLInputElement} */ (el("input", "input input--number"));
  Object.assign(input, { id, type: "number", min: "0", max: String(max), step: "any", inputMode: "decimal" });
  const error = el("p", "field-error");
  error.id = `${id}-error`;
  error.hidden = true;
  const described = [error.id];
  box.append(text);
  if (hint) {
    const help = el("p", "hint", hint);
    help.id = `${id}-hint`;
    described.unshift(help.id);
    box.append(help);
  }
  input.setAttribute("aria-describedby", described.join(" "));
  box.append(input, error);
  return { box, input, error };
}

/**
 * Check one number input: empty is allowed when `optional`, otherwise 0…max.
 * @returns {number|null|undefined} the value, null when empty, undefined when invalid
 */
function readNumber(field, max, optional) {
  const raw = field.input.value.trim();
  field.input.removeAttribute("aria-invalid");
  field.error.hidden = true;
  if (!raw && optional) return null;
  const value = Number(raw);
  if (!raw || !Number.isFinite(value) || value < 0 || value > max) {
    field.input.setAttribute("aria-invalid", "true");
    field.error.textContent = `Enter a number from 0 to ${max}.`;
    field.error.hidden = false;
    return undefined;
  }
  return value;
}

/** The candidate's response as text a person can read. */
function responseBlock(entry) {
  const box = el("div", "grade-response");
  box.append(el("h4", "grade-response__title", "Candidate's answer"));
  const response = entry.response ?? {};
  if (entry.type === "coding") {
    box.append(el("p", "muted", `Language: ${response.language ?? "?"}`));
    box.append(el("pre", "grade-response__code", response.code || "(no code)"));
    const runs = el("a", "", "Code runs and per-test results");
    runs.href = `/admin/judge/attempts/${encodeURIComponent(entry.attempt_id)}`;
    const line = el("p");
    line.append(runs);
    box.append(line);
  } else {
    const text = typeof response.text === "string" ? response.text : JSON.stringify(response);
    box.append(el("p", "grade-response__text", text || "(no answer)"));
  }
  return box;
}

/**
 * One queue item: question, answer and the marking form.
 * @param {any} entry a QueueItem from the API
 * @returns {HTMLElement}
 */
function itemCard(entry) {
  const key = `${entry.attempt_id}-${entry.item}`;
  const card = el("article", "card grade-item");
  card.dataset.attempt = entry.attempt_id;
  card.dataset.item = String(entry.item);
  const heading = el("h2", "card__title", entry.title);
  heading.id = `title-${key}`;
  card.setAttribute("aria-labelledby", heading.id);
  const meta = el("p", "muted grade-item__meta",
    `${entry.exam_title} · question ${entry.item + 1} · ${entry.points} points · candidate #${entry.user_id}` +
    (entry.submitted_at ? ` · submitted ${formatDateTime(entry.submitted_at)}` : ""));
  card.append(meta, heading);
  if (entry.body) card.append(el("p", "grade-item__body", entry.body));
  card.append(responseBlock(entry));

  const form = /** @type {HTMLFormElement} */ (el("form", "grade-form"));
  form.noValidate = true;
  const rubric = Array.isArray(entry.rubric) ? entry.rubric : [];
  const marks = [];
  if (rubric.length) {
    const set = el("fieldset", "grade-rubric");
    set.append(el("legend", "", "Rubric"));
    rubric.forEach((criterion, index) => {
      const points = Number(criterion.points);
      const field = numberField(`rubric-${key}-${index}`, `${criterion.criterion} (out of ${points})`, points,
        criterion.description || "");
      field.input.dataset.criterion = criterion.criterion;
      marks.push({ field, points, name: criterion.criterion });
      set.append(field.box);
    });
    form.append(set);
  }
  const total = numberField(`score-${key}`, `Score (out of ${entry.points})`, entry.points,
    rubric.length ? "Leave empty to use the rubric marks' share of the points." : "");
  form.append(total.box);

  const feedbackBox = el("div", "field");
  const feedbackLabel = el("label", "", "Feedback for the candidate");
  feedbackLabel.htmlFor = `feedback-${key}`;
  const feedback = /** @type {HTMLTextAreaElement} */ (el("textarea", "textarea"));
  Object.assign(feedback, { id: `feedback-${key}`, name: "feedback", rows: 3, maxLength: 10000 });
  feedbackBox.append(feedbackLabel, feedback);
  form.append(feedbackBox);

  const actions = el("div", "cluster");
  const save = el("button", "btn btn--primary", "Save mark");
  save.type = "submit";
  save.setAttribute("aria-describedby", heading.id);
  actions.append(save);
  form.append(actions);
  const itemStatus = el("div", "form-status");
  itemStatus.setAttribute("role", "status");
  itemStatus.setAttribute("aria-live", "polite");
  form.append(itemStatus);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { feedback: feedback.value };
    let valid = true;
    const rubricScores = {};
    let given = 0;
    for (const mark of marks) {
      const value = readNumber(mark.field, mark.points, true);
      if (value === undefined) valid = false;
      else if (value !== null) {
        rubricScores[mark.name] = value;
        given += 1;
      }
    }
    const score = readNumber(total, entry.points, true);
    if (score === undefined) valid = false;
    if (valid && given && given < marks.length) {
      setStatus(itemStatus, "Give a mark for every rubric criterion, or leave them all empty.", "danger");
      return;
    }
    if (valid && score === null && !given) {
      setStatus(itemStatus, "Enter a score or the rubric marks, then save.", "danger");
      total.input.focus();
      return;
    }
    if (!valid) {
      setStatus(itemStatus, "Some marks are out of range. Correct them, then save.", "danger");
      form.querySelector('[aria-invalid="true"]')?.focus();
      return;
    }
    if (given) body.rubric_scores = rubricScores;
    if (score !== null) body.score = score;
    save.disabled = true;
    setStatus(itemStatus, "Saving…", "progress");
    try {
      const saved = await api(`/api/v1/grading/${encodeURIComponent(entry.attempt_id)}/${entry.item}`,
        { method: "PUT", json: body });
      card.classList.add("is-graded");
      const done = saved.attempt_status === "graded" && saved.attempt_score !== null
        ? ` The attempt is fully graded: ${saved.attempt_score} of ${saved.max_score} points.`
        : " Other items of this attempt still wait for a mark.";
      setStatus(itemStatus, `Mark saved.${done}`, "success");
    } catch (error) {
      const detail = error.code === "validation_error" && Array.isArray(error.details)
        ? error.details.map((d) => sentence(d.msg)).join(" ")
        : error.message;
      setStatus(itemStatus, detail, "danger");
    } finally {
      save.disabled = false;
    }
  });
  card.append(form);
  return card;
}

/** Previous / next page buttons and the count. */
function pager() {
  const nav = el("nav", "pager");
  nav.setAttribute("aria-label", "Pages of the grading queue");
  const prev = el("button", "btn btn--secondary", "Previous page");
  const next = el("button", "btn btn--secondary", "Next page");
  prev.type = next.type = "button";
  prev.disabled = view.offset === 0;
  next.disabled = view.offset + PAGE_SIZE >= view.total;
  prev.addEventListener("click", () => { view.offset = Math.max(0, view.offset - PAGE_SIZE); load(); });
  next.addEventListener("click", () => { view.offset += PAGE_SIZE; load(); });
  const last = Math.min(view.total, view.offset + PAGE_SIZE);
  nav.append(prev, el("p", "pager__summary", `Items ${view.offset + 1}–${last} of ${view.total}`), next);
  return nav;
}

/** Load one page of the queue and draw it. */
async function load() {
  setStatus(status, "Loading the grading queue…", "progress");
  try {
    const page = await api("/api/v1/grading/queue", { query: { limit: PAGE_SIZE, offset: view.offset } });
    view.total = page.total;
    setStatus(status, "");
    const reload = el("button", "btn btn--secondary", "Reload the queue");
    reload.type = "button";
    reload.addEventListener("click", () => { view.offset = 0; load(); });
    const intro = el("div", "cluster grade-intro");
    intro.append(el("p", "muted", page.total
      ? `${page.total} answer${page.total === 1 ? " waits" : "s wait"} for a mark. Saved items leave the queue when you reload it.`
      : "Nothing waits for a mark."), reload);
    if (!page.items.length) {
      root.replaceChildren(intro);
      return;
    }
    const list = el("div", "grade-list");
    list.append(...page.items.map(itemCard));
    root.replaceChildren(intro, list, pager());
  } catch (error) {
    setStatus(status, error.message, "danger");
  }
}

load();
