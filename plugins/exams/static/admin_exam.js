// Examiner: one exam. Its settings, its sections (rules as JSON), who sits it with which
// accommodations, its results with the CSV and Release, and Publish. Each part saves on its own
// and says what happened in its own status line, next to the controls it concerns.

import { api } from "../accounts/api.js";
import { clearErrors, formatDateTime, sentence, setStatus, showApiError } from "../accounts/ui.js";

const root = document.getElementById("admin-root");
const status = document.getElementById("page-status");
const examId = root.dataset.exam;
const base = `/api/v1/exams/${examId}`;
const DETECTORS = ["face", "identity", "gaze", "audio", "person", "phone", "browser"];
const RULES_EXAMPLE = '[{"question_id": 1, "points": 2}, {"pool": {"tags": ["algebra"]}, "count": 3}]';

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

/** A live status region for one part of the page. */
function statusRegion() {
  const region = el("div", "form-status");
  region.setAttribute("role", "status");
  region.setAttribute("aria-live", "polite");
  return region;
}

/** A card with a heading; returns the card. */
function section(id, title, intro = "") {
  const card = el("section", "card exam-part");
  const heading = el("h2", "card__title", title);
  heading.id = `${id}-title`;
  card.setAttribute("aria-labelledby", heading.id);
  card.append(heading);
  if (intro) card.append(el("p", "muted", intro));
  return card;
}

/**
 * A labelled control with its error slot, for the settings form.
 * @param {string} name the API field name (also the control's name)
 * @param {string} label
 * @param {HTMLElement} control an input, select or textarea
 * @param {string} [hint]
 */
function field(name, label, control, hint = "") {
  const box = el("div", "field");
  control.id = `setting-${name}`;
  control.name = name;
  const text = el("label", "", label);
  text.htmlFor = control.id;
  box.append(text);
  const described = [];
  if (hint) {
    const help = el("p", "hint", hint);
    help.id = `${control.id}-hint`;
    described.push(help.id);
    box.append(help);
  }
  const error = el("p", "field-error");
  error.id = `${control.id}-error`;
  error.hidden = true;
  described.push(error.id);
  control.setAttribute("aria-describedby", described.join(" "));
  box.append(control, error);
  return box;
}

function input(type, attrs = {}) {
  const node = /** @type {HTMLInputElement} */ (el("input", type === "checkbox" ? "" : "input"));
  Object.assign(node, { type, ...attrs });
  return node;
}

function select(options, value) {
  const node = /** @type {HTMLSelectElement} */ (el("select", "select"));
  for (const [key, text] of options) node.append(new Option(text, key, false, key === value));
  return node;
}

/** A checkbox with its label after it. */
function check(name, label, checked) {
  const box = el("div", "check");
  const tick = input("checkbox", { id: `setting-${name}`, name, checked });
  const text = el("label", "", label);
  text.htmlFor = tick.id;
  box.append(tick, text);
  return box;
}

/** "2030-01-07T09:00:00Z" → the `datetime-local` value in the reader's time zone. */
function localValue(iso) {
  if (!iso) return "";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}T${pad(when.getHours())}:${pad(when.getMinutes())}`;
}

/** A `datetime-local` value → ISO 8601 with the zone, or null when empty. */
function isoValue(value) {
  return value ? new Date(value).toISOString() : null;
}

/* ---- Summary and Publish --------------------------------------------------------------- */

function summary(exam) {
  const card = el("div", "exam-summary");
  const badge = el("span", `badge ${exam.status === "published" ? "badge--success" : exam.status === "draft" ? "badge--info" : "badge--warning"}`, exam.status);
  const facts = el("p", "muted", exam.status === "draft"
    ? "A draft: candidates see it once it is published."
    : "Settings and candidates may still change; sections may not.");
  const line = el("div", "cluster");
  line.append(badge, facts);
  card.append(line);
  if (exam.status === "draft") {
    const publish = el("button", "btn btn--primary", "Publish exam");
    publish.type = "button";
    publish.addEventListener("click", async () => {
      publish.disabled = true;
      try {
        await api(`${base}/publish`, { method: "POST" });
        setStatus(status, "The exam is published. Its sections can no longer change.", "success");
        await load();
      } catch (error) {
        const problems = error.details?.problems;
        setStatus(status, Array.isArray(problems) ? `${error.message} ${problems.join(" ")}` : error.message, "danger");
        publish.disabled = false;
      }
    });
    line.append(publish);
  }
  return card;
}

/* ---- Settings ------------------------------------------------------------------------ */

function settingsForm(exam) {
  const card = section("settings", "Settings");
  const form = /** @type {HTMLFormElement} */ (el("form", "settings-form"));
  form.noValidate = true;
  const description = /** @type {HTMLTextAreaElement} */ (el("textarea", "textarea"));
  Object.assign(description, { rows: 4, maxLength: 20000, value: exam.description ?? "" });
  const number = (value, min, max, step = "1") => input("number", { value: value ?? "", min, max, step });
  const grid = el("div", "settings-grid");
  grid.append(
    field("opens_at", "Opens", input("datetime-local", { value: localValue(exam.opens_at) }), "Empty: open as soon as published."),
    field("closes_at", "Closes", input("datetime-local", { value: localValue(exam.closes_at) }), "Empty: no closing time."),
    field("duration_minutes", "Duration (minutes)", number(exam.duration_minutes, 1, 1440)),
    field("attempts_allowed", "Attempts allowed", number(exam.attempts_allowed, 1, 100)),
    field("navigation", "Navigation", select([["free", "Free: any order"], ["sequential", "Sequential: one after another"]], exam.navigation)),
    field("grace_seconds", "Grace after the deadline (seconds)", number(exam.grace_seconds, 0, 3600)),
    field("negative_marking", "Negative marking", number(exam.negative_marking, 0, 1, "0.05"), "Share of a question's points lost for a wrong answer, 0 to 1."),
    field("pass_mark", "Pass mark (%)", number(exam.pass_mark, 0, 100, "any"), "Empty: no pass/fail."),
    field("release_policy", "Release results", select([["immediately", "Immediately once graded"], ["after_close", "After the exam closes"], ["manual", "When I release them"]], exam.release_policy)),
  );
  const shuffles = el("fieldset", "settings-checks");
  shuffles.append(el("legend", "", "Shuffling"),
    check("shuffle_questions", "Shuffle questions within each section", exam.shuffle_questions),
    check("shuffle_options", "Shuffle answer options", exam.shuffle_options));
  const title = input("text", { value: exam.title, maxLength: 200, required: true });
  form.append(field("title", "Title", title), field("description", "Description", description, "Markdown; shown to candidates."), grid, shuffles);
  const save = el("button", "btn btn--primary", "Save settings");
  save.type = "submit";
  const region = statusRegion();
  form.append(save, region);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const values = form.elements;
    const num = (name) => Number(values[name].value);
    const body = {
      title: values.title.value.trim(),
      description: values.description.value,
      opens_at: isoValue(values.opens_at.value),
      closes_at: isoValue(values.closes_at.value),
      duration_minutes: num("duration_minutes"),
      attempts_allowed: num("attempts_allowed"),
      navigation: values.navigation.value,
      shuffle_questions: values.shuffle_questions.checked,
      shuffle_options: values.shuffle_options.checked,
      grace_seconds: num("grace_seconds"),
      negative_marking: num("negative_marking"),
      release_policy: values.release_policy.value,
      pass_mark: values.pass_mark.value.trim() === "" ? null : num("pass_mark"),
    };
    save.disabled = true;
    setStatus(region, "Saving…", "progress");
    try {
      const saved = await api(base, { method: "PUT", json: body });
      document.getElementById("exam-heading").textContent = saved.title;
      document.title = document.title.replace(exam.title, saved.title);
      exam.title = saved.title;
      setStatus(region, "Settings saved. They apply to attempts started from now on.", "success");
    } catch (error) {
      showApiError(form, region, error);
    } finally {
      save.disabled = false;
    }
  });
  card.append(form);
  return card;
}

/* ---- Sections ------------------------------------------------------------------------ */

let sectionCounter = 0;

/** One section's fieldset: title, rules as JSON, remove. */
function sectionBox(data, editable) {
  sectionCounter += 1;
  const n = sectionCounter;
  const box = el("fieldset", "section-box");
  const legend = el("legend");
  box.append(legend);
  const titleInput = input("text", { id: `section-title-${n}`, value: data.title ?? "", maxLength: 200, disabled: !editable });
  titleInput.className = "input";
  titleInput.dataset.role = "title";
  const titleLabel = el("label", "", "Section title");
  titleLabel.htmlFor = titleInput.id;
  const titleField = el("div", "field");
  titleField.append(titleLabel, titleInput);
  const rules = /** @type {HTMLTextAreaElement} */ (el("textarea", "textarea textarea--json"));
  Object.assign(rules, { id: `section-rules-${n}`, rows: 8, spellcheck: false, disabled: !editable });
  rules.dataset.role = "rules";
  rules.value = JSON.stringify(data.rules ?? [], null, 2);
  const rulesLabel = el("label", "", "Rules (JSON list)");
  rulesLabel.htmlFor = rules.id;
  const hint = el("p", "hint", `A fixed question or a pool drawn at random, e.g. ${RULES_EXAMPLE}`);
  hint.id = `${rules.id}-hint`;
  const error = el("p", "field-error");
  error.id = `${rules.id}-error`;
  error.hidden = true;
  rules.setAttribute("aria-describedby", `${hint.id} ${error.id}`);
  const rulesField = el("div", "field");
  rulesField.append(rulesLabel, hint, rules, error);
  box.append(titleField, rulesField);
  if (editable) {
    const remove = el("button", "btn btn--secondary btn--small", "Remove this section");
    remove.type = "button";
    remove.addEventListener("click", () => {
      const list = box.parentElement;
      box.remove();
      renumber(list);
    });
    box.append(remove);
  }
  return box;
}

function renumber(list) {
  [...list.querySelectorAll(".section-box")].forEach((box, index) => {
    box.querySelector("legend").textContent = `Section ${index + 1}`;
  });
}

/** Show a message under a section's rules. */
function sectionError(box, message) {
  const rules = box.querySelector('[data-role="rules"]');
  const slot = document.getElementById(`${rules.id}-error`);
  rules.setAttribute("aria-invalid", "true");
  slot.textContent = message;
  slot.hidden = false;
}

function sectionsPart(exam) {
  const editable = exam.status === "draft";
  const card = section("sections", "Sections",
    editable ? "Each section draws its questions by its rules, in order." : "Sections are fixed once the exam is published, so every paper stays comparable.");
  const form = /** @type {HTMLFormElement} */ (el("form"));
  form.noValidate = true;
  const list = el("div", "section-list");
  for (const data of exam.sections) list.append(sectionBox(data, editable));
  renumber(list);
  form.append(list);
  const region = statusRegion();
  if (editable) {
    const actions = el("div", "cluster");
    const add = el("button", "btn btn--secondary", "Add a section");
    add.type = "button";
    add.addEventListener("click", () => {
      const box = sectionBox({ title: "", rules: [] }, true);
      list.append(box);
      renumber(list);
      box.querySelector("input").focus();
    });
    const save = el("button", "btn btn--primary", "Save sections");
    save.type = "submit";
    actions.append(add, save);
    form.append(actions);
  }
  form.append(region);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const boxes = [...list.querySelectorAll(".section-box")];
    const sections = [];
    let bad = null;
    for (const box of boxes) {
      const text = box.querySelector('[data-role="rules"]').value;
      try {
        const rules = JSON.parse(text);
        if (!Array.isArray(rules)) throw new SyntaxError("not a list");
        sections.push({ title: box.querySelector('[data-role="title"]').value, rules });
      } catch (problem) {
        sectionError(box, `This is not a JSON list of rules (${problem.message}). Write it like ${RULES_EXAMPLE}.`);
        bad ??= box;
      }
    }
    if (bad) {
      setStatus(region, "A section's rules cannot be read. Correct them, then save.", "danger");
      bad.querySelector('[data-role="rules"]').focus();
      return;
    }
    setStatus(region, "Saving…", "progress");
    try {
      const saved = await api(`${base}/sections`, { method: "PUT", json: { sections } });
      setStatus(region, `Sections saved (${saved.length}).`, "success");
    } catch (error) {
      if (error.code === "validation_error" && Array.isArray(error.details)) {
        let placed = 0;
        for (const item of error.details) {
          const loc = Array.isArray(item.loc) ? item.loc.map(String) : [];
          const at = loc.indexOf("sections");
          const index = at >= 0 ? Number(loc[at + 1]) : NaN;
          if (Number.isInteger(index) && boxes[index]) {
            const where = loc.slice(at + 2).filter((part) => !/^(FixedRule|PoolRule)$/.test(part)).join(" → ");
            sectionError(boxes[index], `${where ? `${where}: ` : ""}${sentence(item.msg)}`);
            placed += 1;
          }
        }
        setStatus(region, placed ? "Some sections need attention. Correct them, then save." : error.message, "danger");
      } else {
        setStatus(region, error.message, "danger");
      }
    }
  });
  card.append(form);
  return card;
}

/* ---- Candidates ---------------------------------------------------------------------- */

/** Find a candidate account by id or email among the page's suggestions. */
function resolveCandidate(text) {
  const wanted = text.trim().toLowerCase();
  for (const option of document.querySelectorAll("#candidate-accounts option")) {
    if (option.value.toLowerCase() === wanted || option.dataset.userId === wanted) {
      return { user_id: Number(option.dataset.userId), email: option.value, display_name: option.textContent.trim() };
    }
  }
  if (/^\d+$/.test(wanted)) return { user_id: Number(wanted), email: "", display_name: `User #${wanted}` };
  return null;
}

/** One candidate row: who, extra time, exemptions, remove. */
function candidateRow(seat) {
  const row = el("tr");
  row.dataset.userId = String(seat.user_id);
  row.dataset.notes = seat.notes ?? "";
  const who = el("td");
  who.append(el("span", "candidate-name", seat.display_name || `User #${seat.user_id}`));
  who.append(el("br"), el("span", "muted", seat.email ? `${seat.email} · #${seat.user_id}` : `#${seat.user_id}`));
  const label = seat.email || `user ${seat.user_id}`;
  const extraCell = el("td");
  const extra = input("number", { min: "0", max: "1440", step: "1", value: String(seat.extra_time_minutes ?? 0) });
  extra.className = "input input--small";
  extra.dataset.role = "extra";
  extra.setAttribute("aria-label", `Extra time in minutes for ${label}`);
  extraCell.append(extra);
  const exemptCell = el("td");
  const set = el("fieldset", "detector-set");
  const legend = el("legend", "visually-hidden", `Detectors ${label} is exempt from`);
  set.append(legend);
  for (const name of DETECTORS) {
    const box = el("label", "detector");
    const tick = input("checkbox", { value: name, checked: (seat.exempt_detectors ?? []).includes(name) });
    tick.dataset.role = "exempt";
    box.append(tick, document.createTextNode(` ${name}`));
    set.append(box);
  }
  for (const other of (seat.exempt_detectors ?? []).filter((d) => !DETECTORS.includes(d))) {
    set.dataset.other = `${set.dataset.other ? `${set.dataset.other} ` : ""}${other}`;
  }
  exemptCell.append(set);
  const attemptsCell = el("td", "", String(seat.attempts ?? 0));
  const removeCell = el("td");
  const remove = el("button", "btn btn--secondary btn--small", "Remove");
  remove.type = "button";
  remove.setAttribute("aria-label", `Remove ${label}`);
  remove.addEventListener("click", () => row.remove());
  removeCell.append(remove);
  row.append(who, extraCell, exemptCell, attemptsCell, removeCell);
  return row;
}

function candidatesPart(seats, exam) {
  const card = section("candidates", "Candidates and accommodations",
    "Extra time adds to the duration. Exempt detectors are not used for that person during live proctoring.");
  const form = /** @type {HTMLFormElement} */ (el("form"));
  form.noValidate = true;
  const wrap = el("div", "table-wrap");
  const table = el("table", "table candidates-table");
  const caption = el("caption", "visually-hidden", "Candidates assigned to this exam");
  const head = el("tr");
  for (const text of ["Candidate", "Extra time (min)", "Exempt detectors", "Attempts", ""]) {
    const th = el("th", "", text);
    th.scope = "col";
    if (!text) th.append(el("span", "visually-hidden", "Actions"));
    head.append(th);
  }
  const thead = el("thead");
  thead.append(head);
  const body = el("tbody");
  for (const seat of seats) body.append(candidateRow(seat));
  table.append(caption, thead, body);
  wrap.append(table);

  const addBox = el("div", "toolbar candidate-add");
  const addField = el("div", "field toolbar__grow");
  const addInput = input("text", { id: "candidate-add", autocomplete: "off" });
  addInput.setAttribute("list", "candidate-accounts");
  addInput.setAttribute("aria-describedby", "candidate-add-error");
  const addLabel = el("label", "", "Add a candidate by email or user id");
  addLabel.htmlFor = addInput.id;
  const addError = el("p", "field-error");
  addError.id = "candidate-add-error";
  addError.hidden = true;
  addField.append(addLabel, addInput, addError);
  const add = el("button", "btn btn--secondary", "Add to the list");
  add.type = "button";
  const addActions = el("div", "toolbar__actions");
  addActions.append(add);
  addBox.append(addField, addActions);
  const addOne = () => {
    addInput.removeAttribute("aria-invalid");
    addError.hidden = true;
    const found = resolveCandidate(addInput.value);
    let problem = "";
    if (!addInput.value.trim()) problem = "Type an email address or a user id.";
    else if (!found) problem = "No candidate account has that email. Check it, or use the user id.";
    else if (body.querySelector(`tr[data-user-id="${found.user_id}"]`)) problem = "This person is already on the list.";
    if (problem) {
      addInput.setAttribute("aria-invalid", "true");
      addError.textContent = problem;
      addError.hidden = false;
      addInput.focus();
      return;
    }
    body.append(candidateRow({ ...found, extra_time_minutes: 0, exempt_detectors: [], attempts: 0 }));
    addInput.value = "";
    setStatus(region, "Added to the list. Save the candidates to assign them.", "info");
  };
  add.addEventListener("click", addOne);
  addInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); addOne(); }
  });

  const save = el("button", "btn btn--primary", "Save candidates");
  save.type = "submit";
  save.disabled = exam.status === "archived";
  const region = statusRegion();
  form.append(wrap, addBox, save, region);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const candidates = [];
    for (const row of body.querySelectorAll("tr")) {
      const extra = row.querySelector('[data-role="extra"]');
      const minutes = Number(extra.value || 0);
      if (!Number.isInteger(minutes) || minutes < 0 || minutes > 1440) {
        extra.setAttribute("aria-invalid", "true");
        setStatus(region, "Extra time is a whole number of minutes from 0 to 1440. Correct it, then save.", "danger");
        extra.focus();
        return;
      }
      extra.removeAttribute("aria-invalid");
      const set = row.querySelector(".detector-set");
      const exempt = [...row.querySelectorAll('[data-role="exempt"]:checked')].map((box) => box.value);
      if (set.dataset.other) exempt.push(...set.dataset.other.split(" "));
      candidates.push({ user_id: Number(row.dataset.userId), extra_time_minutes: minutes, exempt_detectors: exempt, notes: row.dataset.notes ?? "" });
    }
    save.disabled = true;
    setStatus(region, "Saving…", "progress");
    try {
      const saved = await api(`${base}/candidates`, { method: "PUT", json: { candidates } });
      body.replaceChildren(...saved.map(candidateRow));
      setStatus(region, `Candidates saved (${saved.length}).`, "success");
    } catch (error) {
      const unknown = error.details?.unknown ?? [];
      const notCandidates = error.details?.not_candidates ?? [];
      const parts = [error.message];
      if (unknown.length) parts.push(`No account has the id ${unknown.join(", ")}.`);
      if (notCandidates.length) parts.push(`Not candidate accounts: ${notCandidates.join(", ")}.`);
      setStatus(region, parts.join(" "), "danger");
    } finally {
      save.disabled = false;
    }
  });
  card.append(form);
  return card;
}

/* ---- Results ------------------------------------------------------------------------- */

function resultsPart(results) {
  const card = section("results", "Results");
  const line = el("div", "cluster");
  line.append(el("span", `badge ${results.released ? "badge--success" : "badge--info"}`, results.released ? "Released to candidates" : "Not released"));
  const csv = el("a", "btn btn--secondary", "Download CSV");
  csv.href = `${base}/results.csv`;
  csv.setAttribute("download", "");
  line.append(csv);
  const region = statusRegion();
  if (!results.released) {
    const release = el("button", "btn btn--primary", "Release results now");
    release.type = "button";
    release.addEventListener("click", async () => {
      release.disabled = true;
      try {
        const done = await api(`${base}/release`, { method: "POST" });
        setStatus(region, `Results released at ${formatDateTime(done.released_at)}.`, "success");
        card.replaceWith(resultsPart({ ...results, released: true }));
      } catch (error) {
        setStatus(region, error.message, "danger");
        release.disabled = false;
      }
    });
    line.append(release);
  }
  card.append(line, region);
  if (!results.rows.length) {
    card.append(el("p", "muted", "No attempts yet."));
    return card;
  }
  const wrap = el("div", "table-wrap");
  const table = el("table", "table");
  table.append(el("caption", "visually-hidden", "Attempts and their scores"));
  const head = el("tr");
  for (const text of ["Candidate", "Attempt", "Status", "Submitted", "Score", "Percent", "Passed"]) {
    const th = el("th", "", text);
    th.scope = "col";
    head.append(th);
  }
  const thead = el("thead");
  thead.append(head);
  const tbody = el("tbody");
  for (const row of results.rows) {
    const tr = el("tr");
    const who = el("td");
    who.append(el("span", "", row.display_name), el("br"), el("span", "muted", row.email));
    const score = row.score === null ? "—" : `${row.score} / ${row.max_score}`;
    const passed = row.passed === null ? "—" : row.passed ? "Yes" : "No";
    const status = el("td", "", row.status.replace("_", " "));
    if (row.ended_by === "proctor") {
      // A proctor's decision is worth a second look before the marks are released.
      status.append(el("br"), el("span", "badge badge--warning", "Ended by the proctor"));
      if (row.end_reason) status.append(el("br"), el("span", "muted", row.end_reason));
    } else if (row.ended_by === "timer") {
      status.append(el("br"), el("span", "muted", "ended by the timer"));
    }
    tr.append(who, el("td", "", String(row.number)), status,
      el("td", "", formatDateTime(row.submitted_at) || "—"), el("td", "", score),
      el("td", "", row.percent === null ? "—" : `${Math.round(row.percent * 10) / 10} %`), el("td", "", passed));
    tbody.append(tr);
  }
  table.append(thead, tbody);
  wrap.append(table);
  card.append(wrap);
  return card;
}

/**
 * Give time back to every attempt in progress (e.g. after an outage on the candidates' side):
 * the server moves their stored deadlines, so open exam pages pick it up on their next save.
 * @param {object} exam
 */
function creditPart(exam) {
  const card = section("credit", "Give time back",
    "Adds minutes to the deadline of every attempt in progress now. Outages of this server are " +
    "credited automatically; use this for problems on the candidates' side.");
  const form = el("form", "cluster");
  form.noValidate = true;
  const minutes = input("number", { min: "1", max: "1440", step: "1", value: "5", required: true });
  const reason = input("text", { maxLength: 500, placeholder: "e.g. network outage in room B" });
  const button = el("button", "btn btn--secondary", "Give time back");
  button.type = "submit";
  form.append(field("credit_minutes", "Minutes", minutes), field("credit_reason", "Reason (audited)", reason), button);
  const region = statusRegion();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = Number(minutes.value);
    if (!Number.isInteger(value) || value < 1 || value > 1440) {
      setStatus(region, "Enter a whole number of minutes between 1 and 1440.", "danger");
      minutes.focus();
      return;
    }
    button.disabled = true;
    try {
      const done = await api(`${base}/time-credit`, { method: "POST", json: { minutes: value, reason: reason.value } });
      const count = done.credited.length;
      setStatus(region, count === 0
        ? "No attempt is in progress, so no deadline changed."
        : `${value} minutes added to ${count} attempt${count === 1 ? "" : "s"} in progress.`, "success");
    } catch (error) {
      setStatus(region, error.message, "danger");
    } finally {
      button.disabled = false;
    }
  });
  card.append(form, region);
  if (exam.status !== "published") card.hidden = true;
  return card;
}

/* ---- Page ---------------------------------------------------------------------------- */

async function load() {
  try {
    const [exam, seats, results] = await Promise.all([
      api(base), api(`${base}/candidates`), api(`${base}/results`),
    ]);
    root.replaceChildren(summary(exam), settingsForm(exam), sectionsPart(exam), candidatesPart(seats, exam), creditPart(exam), resultsPart(results));
  } catch (error) {
    setStatus(status, error.message, "danger");
  }
}

load();
