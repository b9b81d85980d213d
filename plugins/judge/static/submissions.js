// The examiner's page of an attempt's code runs: every run with its code and every test,
// hidden ones included and marked.

import { api } from "../accounts/api.js";
import { runResults } from "./code_item.js";

const root = document.getElementById("judge-runs");
const attemptId = root.dataset.attempt;

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

const KIND = { final: "Graded submission", sample_run: "Sample run" };

function card(run) {
  const box = el("section", { class: "card judge-submission" });
  const when = new Date(run.created_at).toLocaleString();
  box.append(el("h2", {}, `${KIND[run.kind] ?? run.kind} · question ${run.item + 1}`));
  const facts = [`${run.language}`, when, `status ${run.status}`, `tries ${run.tries}`];
  if (run.kind === "final" && run.share != null) facts.push(`marks ${Math.round(run.share * 1000) / 10}%`);
  box.append(el("p", { class: "muted" }, facts.join(" · ")));
  if (run.error) box.append(el("p", { class: "alert alert--warning" }, run.error));
  const code = el("details");
  code.append(el("summary", {}, "Code"), el("pre", { class: "code" }, run.code));
  box.append(code);
  if (run.status === "done") box.append(runResults(run));
  return box;
}

async function main() {
  try {
    const { items } = await api(`/api/v1/judge/attempts/${attemptId}/submissions`);
    root.replaceChildren();
    if (!items.length) root.append(el("p", { class: "muted" }, "No code was run in this attempt."));
    for (const run of items) root.append(card(run));
  } catch (error) {
    root.replaceChildren(el("p", { class: "alert alert--danger" }, error.message));
  }
}

main();
