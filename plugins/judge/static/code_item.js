// A coding item on the exam page: the highlighting editor, the language picker with each
// language's starter code, and "Run samples" with per-test verdict, time, memory and the
// sample's expected output beside the program's. Code is saved by the exam page's own
// autosave (the editor keeps its <textarea name="code">); runs go to the judge API.

import { api } from "../accounts/api.js";
import { codeEditor } from "./editor.js";
import { MODES } from "./highlight.js";

const POLL_MS = 700;
// Each verdict in words with a badge kind; the badge adds its kind's icon (never colour alone).
const VERDICTS = {
  accepted: ["Accepted", "success"],
  wrong_answer: ["Wrong answer", "danger"],
  time_limit: ["Time limit exceeded", "warning"],
  memory_limit: ["Memory limit exceeded", "warning"],
  runtime_error: ["Runtime error", "danger"],
  compile_error: ["Compile error", "danger"],
  output_limit: ["Runtime error (too much output)", "danger"],
  internal_error: ["Judge error", "warning"],
};
let languages = null; // the backend's {name, label, editor_mode} by name, fetched once

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

function stylesheet() {
  if (document.getElementById("judge-css")) return;
  const link = el("link", { rel: "stylesheet", id: "judge-css", href: new URL("./judge.css", import.meta.url).href });
  document.head.append(link);
}

async function knownLanguages() {
  if (languages) return languages;
  try {
    const body = await api("/api/v1/judge/languages", { signIn: "throw" });
    languages = Object.fromEntries(body.languages.map((lang) => [lang.name, lang]));
  } catch {
    languages = {};
  }
  return languages;
}

function modeOf(name) {
  const mode = languages?.[name]?.editor_mode || name;
  return MODES.includes(mode) ? mode : "";
}

/** A verdict badge: colour, icon and words. */
export function verdictBadge(verdict) {
  const [label, kind] = VERDICTS[verdict] ?? [String(verdict), "info"];
  return el("span", { class: `badge badge--${kind} verdict` }, label);
}

function outputBlock(label, text) {
  const box = el("div", { class: "judge-output" });
  box.append(el("p", { class: "label" }, label), el("pre", {}, text === "" ? "(empty)" : text));
  return box;
}

/** One test as a card: verdict, time, memory; for visible tests, the texts that explain it. */
export function testCard(test) {
  const card = el("li", { class: "judge-test" });
  const head = el("div", { class: "judge-test__head" });
  head.append(el("strong", {}, test.name), verdictBadge(test.verdict));
  if (test.hidden) head.append(el("span", { class: "badge badge--info" }, "hidden"));
  const numbers = [];
  if (test.time_ms != null) numbers.push(`${test.time_ms} ms`);
  if (test.memory_kb != null) numbers.push(`${Math.round(test.memory_kb / 1024 * 10) / 10} MB`);
  head.append(el("span", { class: "muted" }, numbers.join(" · ")));
  card.append(head);
  if (test.message) card.append(el("p", { class: "hint" }, test.message));
  const texts = el("div", { class: "judge-test__texts" });
  if ("input" in test) texts.append(outputBlock("Input", test.input ?? ""));
  if ("expected" in test) texts.append(outputBlock("Expected output", test.expected ?? ""));
  if ("stdout" in test) texts.append(outputBlock("Your output", test.stdout ?? ""));
  if (test.stderr) texts.append(outputBlock("Errors", test.stderr));
  if (texts.childElementCount) card.append(texts);
  return card;
}

/** A run's results: overall verdict, compiler output, then every test. */
export function runResults(run) {
  const box = el("div", { class: "judge-results" });
  const results = run.results ?? {};
  const head = el("p", { class: "judge-results__head" });
  head.append(verdictBadge(run.verdict ?? results.verdict));
  const tests = results.tests ?? [];
  const passed = tests.filter((t) => t.verdict === "accepted").length;
  if (tests.length) head.append(document.createTextNode(` ${passed} of ${tests.length} tests passed`));
  box.append(head);
  if (results.message) box.append(el("p", { class: "hint" }, results.message));
  if (results.compile_output) box.append(outputBlock("Compiler output", results.compile_output));
  const list = el("ul", { class: "judge-tests" });
  for (const test of tests) list.append(testCard(test));
  box.append(list);
  return box;
}

async function poll(runId, show) {
  for (;;) {
    const run = await api(`/api/v1/judge/runs/${runId}`);
    if (run.status === "done" || run.status === "failed") return run;
    show(run.status === "running" ? "Running your program…" : "Waiting for the judge…");
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Upgrade the coding item `questions.js` drew in `form`.
 * @param {HTMLFormElement} form
 * @param {{attemptId: string, item: number, question: any}} where
 */
export async function enhanceCodeItem(form, { attemptId, item, question }) {
  stylesheet();
  const area = form.querySelector("textarea[name=code]");
  const select = form.querySelector("select[name=language]");
  if (!area || !select) return;
  await knownLanguages();
  if (!form.contains(area)) return; // the candidate moved on while languages loaded
  for (const option of select.options) option.textContent = languages[option.value]?.label ?? option.value;
  const hint = form.querySelector("#code-hint");
  if (hint) hint.textContent = "Tab indents, Shift+Tab outdents. To leave the editor with the keyboard, press Esc, then Tab.";
  const editor = codeEditor(area, modeOf(select.value));
  let language = select.value;
  select.addEventListener("change", () => {
    const starter = question.starter_code ?? {};
    if (!area.value.trim() || area.value === (starter[language] ?? "")) {
      area.value = starter[select.value] ?? "";
      area.dispatchEvent(new Event("input", { bubbles: true }));
    }
    language = select.value;
    editor.setMode(modeOf(language));
  });
  if (!(question.samples ?? []).length) return;
  const bar = el("div", { class: "judge-run cluster" });
  const button = el("button", { type: "button", class: "btn btn--secondary" }, "Run samples");
  const state = el("span", { class: "muted", role: "status", "aria-live": "polite" });
  bar.append(button, state);
  const output = el("div", { class: "judge-run__output", "aria-live": "polite" });
  area.closest(".field")?.after(bar, output);
  button.addEventListener("click", async () => {
    button.disabled = true;
    state.textContent = "Sending your program…";
    output.replaceChildren();
    try {
      const queued = await api(`/api/v1/judge/attempts/${attemptId}/items/${item}/runs`, {
        method: "POST",
        json: { language: select.value, code: area.value },
      });
      const run = await poll(queued.id, (text) => { state.textContent = text; });
      if (run.status === "failed") {
        state.textContent = "";
        output.append(el("p", { class: "alert alert--warning" }, `The judge could not run your program (${run.error || "unavailable"}). Your code is saved; try again in a minute.`));
      } else {
        state.textContent = "Finished. Your code is saved as you type; running it does not submit it.";
        output.append(runResults(run));
      }
    } catch (error) {
      state.textContent = "";
      output.append(el("p", { class: "alert alert--danger" }, error.message));
    } finally {
      button.disabled = false;
    }
  });
}
