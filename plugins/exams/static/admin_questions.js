// Examiner: the question bank. Filters and pages over the list, a form that creates a question
// or saves a new version of one (its payload as JSON, pre-filled per type), archive, import of
// Moodle XML or GIFT files with a dry run and per-question errors, and export links.

import { api } from "../accounts/api.js";
import { clearErrors, fieldError, focusFirstError, sentence, setStatus } from "../accounts/ui.js";

const PAGE_SIZE = 25;
const root = document.getElementById("admin-root");
const status = document.getElementById("page-status");
const TYPES = [...document.getElementById("question-types").content.querySelectorAll("option")]
  .map((option) => [option.value, option.textContent]);
const TYPE_NAMES = Object.fromEntries(TYPES);

/** A valid starting payload per question type (see the bank's payload models). */
const TEMPLATES = {
  single_choice: { type: "single_choice", shuffle_options: true, options: [
    { id: "a", text: "First option", correct: true }, { id: "b", text: "Second option", correct: false }] },
  multiple_choice: { type: "multiple_choice", scoring: "partial", shuffle_options: true, options: [
    { id: "a", text: "First option", correct: true }, { id: "b", text: "Second option", correct: true },
    { id: "c", text: "Third option", correct: false }] },
  true_false: { type: "true_false", answer: true },
  numeric: { type: "numeric", answer: 0, tolerance: 0, unit: "" },
  short_answer: { type: "short_answer", accepted: [{ value: "answer", match: "case_insensitive" }] },
  essay: { type: "essay", rubric: [{ criterion: "Content", points: 1, description: "" }], min_words: null, max_words: null },
  coding: { type: "coding", languages: ["python"], starter_code: { python: "" },
    samples: [{ input: "1 2\n", output: "3\n", weight: 1 }], hidden: [{ input: "2 3\n", output: "5\n", weight: 1 }],
    time_limit_ms: 2000, memory_limit_mb: 256, checker: "whitespace" },
};

const view = { offset: 0, total: 0 };
/** @type {{id: number, base: number}|null} the question being edited, null when creating */
let editing = null;

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

function statusRegion(id) {
  const region = el("div", "form-status");
  region.id = id;
  region.setAttribute("role", "status");
  region.setAttribute("aria-live", "polite");
  return region;
}

/**
 * A labelled control with hint and error slot (ids follow ui.js's `${id}-error` rule).
 * @param {string} id
 * @param {string} name
 * @param {string} label
 * @param {HTMLElement} control
 * @param {string} [hint]
 */
function field(id, name, label, control, hint = "") {
  const box = el("div", "field");
  control.id = id;
  control.name = name;
  const text = el("label", "", label);
  text.htmlFor = id;
  box.append(text);
  const described = [];
  if (hint) {
    const help = el("p", "hint", hint);
    help.id = `${id}-hint`;
    described.push(help.id);
    box.append(help);
  }
  const error = el("p", "field-error");
  error.id = `${id}-error`;
  error.hidden = true;
  described.push(error.id);
  control.setAttribute("aria-describedby", described.join(" "));
  box.append(control, error);
  return box;
}

function input(type, attrs = {}) {
  const node = /** @type {HTMLInputElement} */ (el("input", "input"));
  Object.assign(node, { type, ...attrs });
  return node;
}

function select(options, anyLabel = "") {
  const node = /** @type {HTMLSelectElement} */ (el("select", "select"));
  if (anyLabel) node.append(new Option(anyLabel, ""));
  for (const [value, text] of options) node.append(new Option(text, value));
  return node;
}

const DIFFICULTIES = [["easy", "Easy"], ["medium", "Medium"], ["hard", "Hard"]];

/* ---- Filters, list, pages ------------------------------------------------------------- */

const filters = /** @type {HTMLFormElement} */ (el("form", "toolbar"));
filters.setAttribute("role", "search");
filters.setAttribute("aria-label", "Filter questions");
filters.noValidate = true;
{
  const q = field("filter-q", "q", "Title contains", input("search", { maxLength: 200, autocomplete: "off" }));
  q.classList.add("toolbar__grow");
  const actions = el("div", "toolbar__actions");
  const apply = el("button", "btn btn--primary", "Apply filters");
  apply.type = "submit";
  const clear = el("button", "btn btn--secondary", "Clear");
  clear.type = "reset";
  actions.append(apply, clear);
  filters.append(q, field("filter-type", "type", "Type", select(TYPES, "Any type")),
    field("filter-tag", "tag", "Tag", input("text", { maxLength: 64, autocomplete: "off" })),
    field("filter-difficulty", "difficulty", "Difficulty", select(DIFFICULTIES, "Any difficulty")), actions);
  filters.addEventListener("submit", (event) => { event.preventDefault(); view.offset = 0; loadList(); });
  filters.addEventListener("reset", () => { setTimeout(() => { view.offset = 0; loadList(); }); });
}

function filterQuery() {
  const data = new FormData(filters);
  return {
    q: String(data.get("q") ?? "").trim(),
    type: data.get("type"),
    tag: String(data.get("tag") ?? "").trim().toLowerCase(),
    difficulty: data.get("difficulty"),
  };
}

const listRegion = statusRegion("list-status");
const tbody = el("tbody");
const summary = el("p", "pager__summary");
summary.id = "questions-summary";
summary.setAttribute("aria-live", "polite");
const prev = el("button", "btn btn--secondary", "Previous page");
const next = el("button", "btn btn--secondary", "Next page");
prev.type = next.type = "button";
prev.addEventListener("click", () => { view.offset = Math.max(0, view.offset - PAGE_SIZE); loadList(); });
next.addEventListener("click", () => { view.offset += PAGE_SIZE; loadList(); });
const exports = el("p", "cluster export-links");

function listTable() {
  const wrap = el("div", "table-wrap");
  const table = el("table", "table questions-table");
  table.setAttribute("aria-describedby", summary.id);
  table.append(el("caption", "visually-hidden", "Questions matching the filters"));
  const head = el("tr");
  for (const text of ["#", "Title", "Type", "Points", "Difficulty", "Tags", "Actions"]) {
    const th = el("th", "", text);
    th.scope = "col";
    head.append(th);
  }
  const thead = el("thead");
  thead.append(head);
  table.append(thead, tbody);
  wrap.append(table);
  const pager = el("nav", "pager");
  pager.setAttribute("aria-label", "Pages of questions");
  pager.append(prev, summary, next);
  return [wrap, pager];
}

function questionRow(question) {
  const tr = el("tr");
  const tags = el("td");
  if (question.tags.length) {
    const list = el("span", "badge-list");
    for (const tag of question.tags) list.append(el("span", "badge", tag));
    tags.append(list);
  }
  const actions = el("td");
  const wrap = el("div", "cluster");
  const edit = el("button", "btn btn--secondary btn--small", "Edit");
  edit.type = "button";
  edit.setAttribute("aria-label", `Edit ${question.title}`);
  edit.addEventListener("click", () => startEdit(question.id));
  const archive = el("button", "btn btn--secondary btn--small", "Archive");
  archive.type = "button";
  archive.setAttribute("aria-label", `Archive ${question.title}`);
  archive.addEventListener("click", async () => {
    archive.disabled = true;
    try {
      await api(`/api/v1/questions/${question.id}`, { method: "DELETE" });
      setStatus(listRegion, `“${question.title}” is archived. Exams already drawn keep it; new draws skip it.`, "success");
      await loadList();
    } catch (error) {
      setStatus(listRegion, error.message, "danger");
      archive.disabled = false;
    }
  });
  wrap.append(edit, archive);
  actions.append(wrap);
  tr.append(el("td", "", String(question.id)), el("td", "", question.title), el("td", "", TYPE_NAMES[question.type] ?? question.type),
    el("td", "", String(question.points)), el("td", "", question.difficulty), tags, actions);
  return tr;
}

async function loadList() {
  const query = filterQuery();
  try {
    const page = await api("/api/v1/questions", { query: { ...query, limit: PAGE_SIZE, offset: view.offset } });
    view.total = page.total;
    tbody.replaceChildren(...page.items.map(questionRow));
    if (!page.items.length) {
      const row = el("tr");
      const cell = el("td", "muted", "No questions match these filters.");
      cell.colSpan = 7;
      row.append(cell);
      tbody.append(row);
    }
    summary.textContent = page.total
      ? `Questions ${view.offset + 1}–${view.offset + page.items.length} of ${page.total}`
      : "No questions";
    prev.disabled = view.offset === 0;
    next.disabled = view.offset + PAGE_SIZE >= page.total;
    exports.replaceChildren(el("span", "", "Export these questions:"));
    for (const [format, label] of [["moodle_xml", "Moodle XML"], ["gift", "GIFT"]]) {
      const params = new URLSearchParams({ format });
      for (const [key, value] of Object.entries(query)) if (value) params.set(key, String(value));
      const link = el("a", "", label);
      link.href = `/api/v1/questions/export?${params}`;
      link.setAttribute("download", "");
      exports.append(link);
    }
  } catch (error) {
    setStatus(listRegion, error.message, "danger");
  }
}

/* ---- Create and edit ------------------------------------------------------------------ */

const form = /** @type {HTMLFormElement} */ (el("form", "question-form"));
form.noValidate = true;
const formTitle = el("h2", "card__title", "New question");
formTitle.id = "question-form-title";
const formRegion = statusRegion("question-status");
const typeSelect = select(TYPES);
const payload = /** @type {HTMLTextAreaElement} */ (el("textarea", "textarea textarea--json"));
Object.assign(payload, { rows: 12, spellcheck: false });
const body = /** @type {HTMLTextAreaElement} */ (el("textarea", "textarea"));
body.rows = 5;
const explanation = /** @type {HTMLTextAreaElement} */ (el("textarea", "textarea"));
explanation.rows = 3;
const saveButton = el("button", "btn btn--primary", "Create question");
saveButton.type = "submit";
const cancelButton = el("button", "btn btn--secondary", "New question instead");
cancelButton.type = "button";
cancelButton.hidden = true;
{
  const meta = el("div", "question-form__grid");
  meta.append(
    field("question-type", "type", "Type", typeSelect),
    field("question-points", "points", "Points", input("number", { min: "0", max: "1000", step: "any", value: "1" })),
    field("question-difficulty", "difficulty", "Difficulty", select(DIFFICULTIES)),
  );
  const actions = el("div", "cluster");
  actions.append(saveButton, cancelButton);
  form.append(
    field("question-title", "title", "Title", input("text", { maxLength: 200, required: true })),
    meta,
    field("question-body", "body", "Question text", body, "Markdown."),
    field("question-tags", "tags", "Tags", input("text", { autocomplete: "off" }), "Separate tags with commas, e.g. algebra, week 3."),
    field("question-explanation", "explanation", "Explanation", explanation, "Shown to candidates after results are released."),
    field("question-payload", "payload", "Answer settings (JSON)", payload,
      "Options, correct answers, rubric… for the chosen type. Changing the type of a new question fills in an example."),
    actions, formRegion,
  );
  typeSelect.value = "single_choice";
  form.elements.namedItem("difficulty").value = "medium";
  payload.value = JSON.stringify(TEMPLATES.single_choice, null, 2);
  typeSelect.addEventListener("change", () => {
    if (!editing) payload.value = JSON.stringify(TEMPLATES[typeSelect.value], null, 2);
  });
  cancelButton.addEventListener("click", () => resetForm());
}

function resetForm() {
  editing = null;
  form.reset();
  clearErrors(form);
  typeSelect.disabled = false;
  typeSelect.value = "single_choice";
  form.elements.namedItem("difficulty").value = "medium";
  form.elements.namedItem("points").value = "1";
  payload.value = JSON.stringify(TEMPLATES.single_choice, null, 2);
  formTitle.textContent = "New question";
  saveButton.textContent = "Create question";
  cancelButton.hidden = true;
}

async function startEdit(id) {
  try {
    const question = await api(`/api/v1/questions/${id}`);
    clearErrors(form);
    editing = { id, base: question.current_version };
    const values = form.elements;
    typeSelect.value = question.type;
    typeSelect.disabled = true;
    values.namedItem("title").value = question.content.title;
    values.namedItem("points").value = String(question.content.points);
    values.namedItem("difficulty").value = question.difficulty;
    body.value = question.content.body;
    values.namedItem("tags").value = question.tags.join(", ");
    explanation.value = question.content.explanation;
    payload.value = JSON.stringify(question.content.payload, null, 2);
    formTitle.textContent = `Edit question #${id} (version ${question.current_version})`;
    saveButton.textContent = "Save as a new version";
    cancelButton.hidden = false;
    setStatus(formRegion, "");
    form.elements.namedItem("title").focus();
  } catch (error) {
    setStatus(listRegion, error.message, "danger");
  }
}

/** Put API validation errors under their fields: the first known field name in each `loc`. */
function placeErrors(error) {
  const names = ["title", "body", "points", "payload", "explanation", "tags", "difficulty", "type"];
  const byField = new Map();
  for (const item of error.details ?? []) {
    const loc = Array.isArray(item.loc) ? item.loc.map(String) : [];
    const name = loc.find((part) => names.includes(part)) ?? "";
    if (!name) continue;
    const after = loc.slice(loc.indexOf(name) + 1).filter((part) => !TYPE_NAMES[part] && !/^function-/.test(part));
    const text = `${after.length ? `${after.join(" → ")}: ` : ""}${sentence(item.msg)}`;
    byField.set(name, [...(byField.get(name) ?? []), text]);
  }
  let placed = 0;
  for (const [name, messages] of byField) if (fieldError(form, name, messages.join(" "))) placed += 1;
  return placed;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const values = form.elements;
  let parsed;
  try {
    parsed = JSON.parse(payload.value);
  } catch (problem) {
    fieldError(form, "payload", `This is not valid JSON (${problem.message}).`);
    setStatus(formRegion, "The answer settings cannot be read. Correct them, then save.", "danger");
    focusFirstError(form);
    return;
  }
  const data = {
    title: values.namedItem("title").value.trim(),
    body: body.value,
    points: Number(values.namedItem("points").value),
    difficulty: values.namedItem("difficulty").value,
    tags: values.namedItem("tags").value.split(",").map((tag) => tag.trim()).filter(Boolean),
    explanation: explanation.value,
    payload: parsed,
  };
  saveButton.disabled = true;
  setStatus(formRegion, "Saving…", "progress");
  try {
    let saved;
    if (editing) {
      saved = await api(`/api/v1/questions/${editing.id}`, { method: "PUT", json: { ...data, base_version: editing.base } });
      setStatus(formRegion, `Saved “${saved.content.title}” (version ${saved.current_version}).`, "success");
      editing.base = saved.current_version;
      formTitle.textContent = `Edit question #${saved.id} (version ${saved.current_version})`;
    } else {
      saved = await api("/api/v1/questions", { method: "POST", json: { type: typeSelect.value, ...data } });
      resetForm();
      setStatus(formRegion, `Created question #${saved.id}, “${saved.content.title}”.`, "success");
    }
    await loadList();
  } catch (error) {
    if (error.code === "validation_error" && placeErrors(error)) {
      setStatus(formRegion, "Some fields need attention. Correct them, then save.", "danger");
      focusFirstError(form);
    } else {
      setStatus(formRegion, error.message, "danger");
    }
  } finally {
    saveButton.disabled = false;
  }
});

/* ---- Import --------------------------------------------------------------------------- */

const importForm = /** @type {HTMLFormElement} */ (el("form", "import-form"));
importForm.noValidate = true;
const importRegion = statusRegion("import-status");
const importReport = el("div", "import-report");
{
  const file = input("file", { accept: ".xml,.txt,.gift,text/xml,application/xml,text/plain" });
  const format = select([["moodle_xml", "Moodle XML"], ["gift", "GIFT"]]);
  const options = el("fieldset", "import-options");
  options.append(el("legend", "", "Options"));
  for (const [name, label, checked] of [["dry_run", "Only check the file (dry run)", true], ["skip_unsupported", "Skip question types the bank does not have", false]]) {
    const box = el("div", "check");
    const tick = /** @type {HTMLInputElement} */ (el("input"));
    Object.assign(tick, { type: "checkbox", id: `import-${name}`, name, checked });
    const text = el("label", "", label);
    text.htmlFor = tick.id;
    box.append(tick, text);
    options.append(box);
  }
  const submit = el("button", "btn btn--primary", "Import");
  submit.type = "submit";
  importForm.append(field("import-file", "file", "File", file), field("import-format", "format", "Format", format), options, submit, importRegion, importReport);
  file.addEventListener("change", () => {
    if (/\.xml$/i.test(file.files?.[0]?.name ?? "")) format.value = "moodle_xml";
    else if (file.files?.length) format.value = "gift";
  });
  importForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(importForm);
    importReport.replaceChildren();
    const chosen = file.files?.[0];
    if (!chosen) {
      fieldError(importForm, "file", "Choose a Moodle XML or GIFT file.");
      focusFirstError(importForm);
      return;
    }
    const dryRun = importForm.elements.namedItem("dry_run").checked;
    submit.disabled = true;
    setStatus(importRegion, dryRun ? "Checking the file…" : "Importing…", "progress");
    try {
      const result = await api("/api/v1/questions/import", {
        method: "POST", body: chosen, contentType: format.value === "gift" ? "text/plain" : "application/xml",
        query: { format: format.value, dry_run: dryRun, skip_unsupported: importForm.elements.namedItem("skip_unsupported").checked },
      });
      const message = result.dry_run
        ? `The file is valid: ${result.created} question${result.created === 1 ? "" : "s"} would be imported. Clear “dry run” to import.`
        : `Imported ${result.created} question${result.created === 1 ? "" : "s"}.`;
      setStatus(importRegion, message, "success");
      report("Warnings", result.warnings);
      report("Skipped", result.skipped);
      if (!result.dry_run) await loadList();
    } catch (error) {
      setStatus(importRegion, error.message, "danger");
      if (Array.isArray(error.details)) report("Problems (nothing was imported)", error.details);
    } finally {
      submit.disabled = false;
    }
  });
}

/** A list of per-question problems: position, name, line and message. */
function report(title, problems) {
  if (!problems?.length) return;
  importReport.append(el("h3", "import-report__title", title));
  const list = el("ul", "import-errors");
  for (const problem of problems) {
    const where = [`Question ${problem.index ?? "?"}`];
    if (problem.name) where.push(`“${problem.name}”`);
    if (problem.line) where.push(`line ${problem.line}`);
    list.append(el("li", "", `${where.join(", ")}: ${sentence(problem.message ?? problem.msg)}`));
  }
  importReport.append(list);
}

/* ---- Page ----------------------------------------------------------------------------- */

const editCard = el("section", "card");
editCard.setAttribute("aria-labelledby", formTitle.id);
editCard.append(formTitle, form);
const importCard = el("section", "card");
const importTitle = el("h2", "card__title", "Import questions");
importTitle.id = "import-title";
importCard.setAttribute("aria-labelledby", importTitle.id);
importCard.append(importTitle, el("p", "muted", "All or nothing: if any question is invalid, nothing is written and each problem is listed."), importForm);
const grid = el("div", "admin-grid question-forms");
grid.append(editCard, importCard);
root.replaceChildren(filters, listRegion, ...listTable(), exports, grid);
loadList();
