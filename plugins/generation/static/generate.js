// Examiner: generate question drafts from material, follow the job's progress, then edit,
// approve or reject each draft. The API checks everything; this page only gathers and shows.

import { api } from "../accounts/api.js";
import { setStatus } from "../accounts/ui.js";

const form = document.getElementById("generate-form");
const formStatus = document.getElementById("generate-status");
const kind = document.getElementById("source-kind");
const textField = document.getElementById("text-field");
const fileField = document.getElementById("file-field");
const progressBox = document.getElementById("progress-box");
const progress = document.getElementById("progress");
const progressText = document.getElementById("progress-text");
const jobErrors = document.getElementById("job-errors");
const list = document.getElementById("drafts");
const draftsStatus = document.getElementById("drafts-status");
const TYPE_NAMES = Object.fromEntries(
  [...form.querySelectorAll(".gen-count input")].map((input) => [input.name, input.labels[0].textContent]),
);
const POLL_MS = 800;
let currentJob = null;

function el(tag, className = "", text = "") {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

function labelled(id, label, control) {
  const box = el("div", "field");
  const text = el("label", "", label);
  text.htmlFor = id;
  control.id = id;
  box.append(text, control);
  return box;
}

function input(value, type = "text") {
  const node = el("input", type === "text" ? "input" : "");
  node.type = type;
  node.value = value ?? "";
  return node;
}

function textarea(value, rows = 3) {
  const node = el("textarea", "textarea");
  node.rows = rows;
  node.value = value ?? "";
  return node;
}

kind.addEventListener("change", () => {
  const file = kind.value === "file";
  fileField.hidden = !file;
  textField.hidden = file;
});

function fieldMessage(id, message) {
  document.getElementById(id).textContent = message;
  const control = document.getElementById(id.replace(/-error$/, ""));
  if (control) {
    if (message) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  fieldMessage("source-text-error", "");
  fieldMessage("source-file-error", "");
  fieldMessage("counts-error", "");
  const counts = {};
  for (const field of form.querySelectorAll(".gen-count input")) {
    const n = Number(field.value || 0);
    if (n > 0) counts[field.name] = n;
  }
  if (!Object.keys(counts).length) {
    fieldMessage("counts-error", "Ask for at least one question.");
    return;
  }
  const options = { counts, difficulty: form.difficulty.value };
  let job;
  try {
    if (kind.value === "file") {
      const file = form.file.files[0];
      if (!file) {
        fieldMessage("source-file-error", "Choose a file to upload.");
        return;
      }
      const body = new FormData();
      body.append("options", JSON.stringify(options));
      body.append("file", file);
      job = await api("/api/v1/generation/jobs/upload", { method: "POST", body });
    } else {
      const text = form.text.value;
      if (!text.trim()) {
        fieldMessage("source-text-error", "Paste some material or write a topic.");
        form.text.focus();
        return;
      }
      job = await api("/api/v1/generation/jobs", {
        method: "POST", json: { ...options, source_kind: kind.value, text },
      });
    }
  } catch (error) {
    setStatus(formStatus, error.serverMessage || error.message, "danger");
    return;
  }
  setStatus(formStatus, `Started: ${job.total} question(s) requested.`, "info");
  currentJob = job.id;
  follow(job);
});

async function follow(job) {
  progressBox.hidden = false;
  showProgress(job);
  while (job.status === "queued" || job.status === "running") {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    try {
      job = await api(`/api/v1/generation/jobs/${job.id}`);
    } catch (error) {
      progressText.textContent = error.message;
      return;
    }
    showProgress(job);
    await loadDrafts(job.id);
  }
  await loadDrafts(job.id);
}

function showProgress(job) {
  progress.max = Math.max(job.total, 1);
  progress.value = job.done;
  const ok = job.done - job.failed;
  const state = { queued: "Waiting to start", running: "Generating", done: "Finished", failed: "Failed" }[job.status];
  progressText.textContent = `${state}: ${job.done} of ${job.total} attempted, ${ok} draft(s) written, ${job.failed} failed.`
    + (job.prompt_tokens ? ` Tokens: ${job.prompt_tokens} prompt, ${job.completion_tokens} completion.` : "");
  jobErrors.replaceChildren(...job.errors.map((e) => el(
    "li", "alert alert--warning",
    e.type ? `${TYPE_NAMES[e.type] ?? e.type} ${e.number}: ${e.message}` : e.message,
  )));
}

/** Drafts of one job, or (on arrival) every draft still waiting for a decision. */
async function loadDrafts(jobId) {
  const query = jobId ? { job_id: jobId, limit: 500 } : { status: "draft", limit: 500 };
  const page = await api("/api/v1/generation/drafts", { query });
  const shown = new Set([...list.children].map((item) => Number(item.dataset.id)));
  for (const draft of page.items) if (!shown.has(draft.id)) list.append(draftCard(draft));
  draftsStatus.textContent = page.items.length ? "" : "No drafts yet.";
}

function badge(text, tone) {
  return el("span", `badge badge--${tone}`, text);
}

function badges(draft) {
  const row = el("p", "badge-list gen-badges");
  const status = { draft: ["Draft", "info"], approved: ["Approved", "success"], rejected: ["Rejected", "danger"] }[draft.status];
  row.append(badge(status[0], status[1]));
  if (draft.duplicate_of) {
    row.append(badge(`Near-duplicate of question #${draft.duplicate_of} (similarity ${Math.round(draft.similarity * 100)}%)`, "warning"));
  }
  if (draft.reference_status === "passed") row.append(badge("Reference solution passes its tests", "success"));
  if (draft.reference_status === "not_verified") row.append(badge("Reference not verified: no judge installed", "warning"));
  if (draft.question_id) row.append(badge(`In the bank as question #${draft.question_id}`, "success"));
  return row;
}

function payloadEditor(draft, prefix) {
  const box = el("div", "gen-payload");
  const payload = draft.payload;
  if (payload.type === "single_choice" || payload.type === "multiple_choice") {
    const group = el("fieldset", "gen-options");
    group.append(el("legend", "", payload.type === "single_choice" ? "Options (mark the one right answer)" : "Options (mark every right answer)"));
    payload.options.forEach((option, index) => {
      const row = el("div", "gen-option");
      const mark = input("", payload.type === "single_choice" ? "radio" : "checkbox");
      mark.name = `${prefix}-correct`;
      mark.checked = option.correct;
      mark.dataset.option = option.id;
      mark.setAttribute("aria-label", `Option ${index + 1} is right`);
      const text = input(option.text);
      text.dataset.option = option.id;
      text.setAttribute("aria-label", `Option ${index + 1} text`);
      row.append(mark, text);
      group.append(row);
    });
    box.append(group);
  } else if (payload.type === "true_false") {
    const select = el("select", "select");
    for (const [value, label] of [["true", "True"], ["false", "False"]]) {
      const option = el("option", "", label);
      option.value = value;
      option.selected = String(payload.answer) === value;
      select.append(option);
    }
    box.append(labelled(`${prefix}-answer`, "Right answer", select));
  } else if (payload.type === "short_answer") {
    box.append(labelled(`${prefix}-accepted`, "Accepted answers (one a line)",
      textarea(payload.accepted.map((a) => a.value).join("\n"), 2)));
  } else {
    box.append(labelled(`${prefix}-payload`, "Rubric, tests and settings (JSON)",
      textarea(JSON.stringify(payload, null, 2), 8)));
  }
  return box;
}

function readPayload(card, draft, prefix) {
  const payload = structuredClone(draft.payload);
  if (payload.type === "single_choice" || payload.type === "multiple_choice") {
    for (const option of payload.options) {
      option.text = card.querySelector(`input[type=text][data-option="${option.id}"]`).value;
      option.correct = card.querySelector(`input[name="${prefix}-correct"][data-option="${option.id}"]`).checked;
    }
  } else if (payload.type === "true_false") {
    payload.answer = card.querySelector(`#${prefix}-answer`).value === "true";
  } else if (payload.type === "short_answer") {
    const lines = card.querySelector(`#${prefix}-accepted`).value.split("\n").map((s) => s.trim()).filter(Boolean);
    const match = payload.accepted[0]?.match ?? "case_insensitive";
    payload.accepted = lines.map((value) => ({ value, match }));
  } else {
    return JSON.parse(card.querySelector(`#${prefix}-payload`).value);
  }
  return payload;
}

function draftCard(draft) {
  const card = el("li", "card gen-draft");
  card.dataset.id = String(draft.id);
  render(card, draft);
  return card;
}

function render(card, draft) {
  const prefix = `draft-${draft.id}`;
  const head = el("h3", "gen-draft__title", `${TYPE_NAMES[draft.type] ?? draft.type}: ${draft.title}`);
  head.id = `${prefix}-heading`;
  card.setAttribute("aria-labelledby", head.id);
  const status = el("div", "form-status");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  card.replaceChildren(head, badges(draft));
  if (draft.status !== "draft") {
    card.append(el("p", "gen-draft__body", draft.body), status);
    return;
  }
  const title = input(draft.title);
  const body = textarea(draft.body, 4);
  const tags = input(draft.tags.join(", "));
  const difficulty = el("select", "select");
  for (const level of ["easy", "medium", "hard"]) {
    const option = el("option", "", level[0].toUpperCase() + level.slice(1));
    option.value = level;
    option.selected = draft.difficulty === level;
    difficulty.append(option);
  }
  const explanation = textarea(draft.explanation, 2);
  const meta = el("div", "gen-meta");
  meta.append(labelled(`${prefix}-tags`, "Tags (comma-separated)", tags),
    labelled(`${prefix}-difficulty`, "Difficulty", difficulty));
  const save = el("button", "btn btn--secondary", "Save changes");
  const approve = el("button", "btn btn--primary", "Approve into bank");
  const reject = el("button", "btn btn--danger", "Reject");
  for (const button of [save, approve, reject]) button.type = "button";
  const actions = el("div", "actions");
  actions.append(save, approve, reject);
  card.append(
    labelled(`${prefix}-title`, "Title", title),
    labelled(`${prefix}-body`, "Question text", body),
    payloadEditor(draft, prefix),
    labelled(`${prefix}-explanation`, "Explanation", explanation),
    meta, actions, status,
  );

  const edits = () => ({
    title: title.value,
    body: body.value,
    explanation: explanation.value,
    difficulty: difficulty.value,
    tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean),
    payload: readPayload(card, draft, prefix),
  });
  const saveEdits = async () => {
    let changes;
    try {
      changes = edits();
    } catch {
      setStatus(status, "The JSON is not valid; fix it, then save again.", "danger");
      return null;
    }
    return api(`/api/v1/generation/drafts/${draft.id}`, { method: "PUT", json: changes });
  };
  const act = async (work, done) => {
    for (const button of [save, approve, reject]) button.disabled = true;
    try {
      const updated = await work();
      if (updated) {
        draft = updated;
        render(card, draft);
        setStatus(card.querySelector(".form-status"), done(draft), draft.status === "rejected" ? "info" : "success");
        return;
      }
    } catch (error) {
      const detail = Array.isArray(error.details) ? ` (${error.details.map((d) => `${(d.loc ?? []).join(".")}: ${d.msg}`).join("; ")})` : "";
      setStatus(status, `${error.serverMessage || error.message}${detail}`, "danger");
    }
    for (const button of [save, approve, reject]) button.disabled = false;
  };
  save.addEventListener("click", () => act(saveEdits, () => "Saved."));
  approve.addEventListener("click", () => act(async () => {
    const saved = await saveEdits();
    if (!saved) return null;
    return api(`/api/v1/generation/drafts/${draft.id}/approve`, { method: "POST", json: {} });
  }, (d) => `Approved: question #${d.question_id} is in the bank.`));
  reject.addEventListener("click", () => act(
    () => api(`/api/v1/generation/drafts/${draft.id}/reject`, { method: "POST" }),
    () => "Rejected.",
  ));
}

loadDrafts(null).catch((error) => setStatus(draftsStatus, error.message, "danger"));
