// My result: score and per-item marks once released; otherwise when they will be.

import { api } from "../accounts/api.js";
import { formatDateTime, setStatus } from "../accounts/ui.js";

const root = document.getElementById("result");
const status = document.getElementById("result-status");
const body = document.getElementById("result-body");

function el(tag, className = "", text = "") {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

/** A response in words, per type. */
function describe(item) {
  const r = item.response ?? {};
  if (Array.isArray(r.selected)) return r.selected.length ? `Chose ${r.selected.join(", ")}` : "No answer";
  if ("value" in r) return r.value === null || r.value === undefined ? "No answer" : String(r.value);
  if ("code" in r) return r.code ? `${r.language} program, ${r.code.split("\n").length} lines` : "No answer";
  if ("text" in r) return r.text ? r.text : "No answer";
  return "No answer";
}

function whenReleased() {
  if (root.dataset.policy === "after_close" && root.dataset.closes) {
    return `Results will be released on ${formatDateTime(root.dataset.closes)}.`;
  }
  if (root.dataset.policy === "immediately") return "Results appear here as soon as grading is finished.";
  return "Results will be released by your examiner.";
}

function show(result) {
  const summary = el("section", "card result-summary");
  summary.append(el("h2", "card__title", "Score"));
  const score = el("p", "result-score", `${result.score} / ${result.max_score}`);
  summary.append(score);
  if (result.percent !== null) summary.append(el("p", "", `${result.percent.toFixed(1)} %`));
  if (result.passed !== null) {
    summary.append(el("p", `badge badge--${result.passed ? "success" : "danger"}`, result.passed ? "Passed" : "Not passed"));
  }
  const wrap = el("div", "table-wrap");
  const table = el("table", "table");
  table.append(el("caption", "visually-hidden", "Marks per question"));
  const head = el("thead");
  const row = el("tr");
  for (const h of ["Question", "Your answer", "Score", "Feedback"]) row.append(Object.assign(el("th", "", h), { scope: "col" }));
  head.append(row);
  const rows = el("tbody");
  for (const item of result.items) {
    const tr = el("tr");
    tr.append(Object.assign(el("th", "", String(item.item + 1)), { scope: "row" }));
    tr.append(el("td", "result-answer", describe(item)));
    tr.append(el("td", "", `${item.score ?? "–"} / ${item.points}`));
    tr.append(el("td", "", [item.feedback, item.explanation].filter(Boolean).join(" — ")));
    rows.append(tr);
  }
  table.append(head, rows);
  wrap.append(table);
  body.replaceChildren(summary, wrap);
}

/** A proctor ended this attempt: say so (and why) above whatever else the page shows. */
function endedByProctor() {
  if (root.dataset.endedBy !== "proctor") return;
  const reason = root.dataset.endReason ? `: ${root.dataset.endReason}` : ".";
  const note = el("p", "alert alert--warning", `Your exam was ended by the proctor${reason}`);
  note.id = "ended-by-proctor";
  root.before(note);
}

async function main() {
  endedByProctor();
  try {
    const result = await api(`/api/v1/attempts/${root.dataset.attempt}/result`);
    setStatus(status, "");
    show(result);
  } catch (error) {
    if (error.code === "result_not_released") {
      setStatus(status, `Your answers were submitted. ${whenReleased()}`, "success");
    } else if (error.code === "result_pending") {
      setStatus(status, "Your answers were submitted. Some answers are still being marked; come back later.", "success");
    } else {
      setStatus(status, error.message, "danger");
    }
  }
}

main();
