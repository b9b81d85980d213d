// The review page: what happened during one attempt, and the reviewer's decisions on it.
// Violations are drawn on a horizontal timeline (one lane per kind, so overlaps stay readable),
// the snapshots in a strip, the score over time as a line chart, and the score's breakdown with
// every contribution's formula. A decision (confirm, dismiss, reviewed) is saved at once and the
// score is read back, so the reviewer sees what their decision changed. Other weights can be
// tried without saving; "Save this score" keeps the last result.

import { api } from "../accounts/api.js";
import { setStatus } from "../accounts/ui.js";
import { lineChart } from "./chart.js";
import { SEVERITY, clock, duration, el, scoreMeter, scoreText } from "./common.js";

const DECISIONS = {
  confirmed: { button: "Confirm", done: "Confirmed", icon: "\u2713" },
  dismissed: { button: "Dismiss", done: "Dismissed", icon: "\u2715" },
  reviewed: { button: "Mark reviewed", done: "Reviewed", icon: "\u25C9" },
};

const root = document.getElementById("review");
const attemptId = root.dataset.attempt;
const base = `/api/v1/proctor/attempts/${encodeURIComponent(attemptId)}`;
const status = document.getElementById("review-status");

let overview = null;
let timeline = null;
let exams = {}; // kind → the exam's weight, for "Back to the exam's weights"
let preview = null; // the last recompute's weights

// ---- helpers ---------------------------------------------------------------------------------

const LABELS = JSON.parse(root.dataset.labels || "{}");

function label(kind) {
  if (LABELS[kind]) return LABELS[kind];
  const known = (timeline?.violations ?? []).find((v) => v.kind === kind);
  if (known) return known.label;
  const words = kind.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function spanOf() {
  const start = Number(timeline.started_at);
  const ends = (timeline.violations ?? []).map((v) => v.ended_at ?? v.started_at);
  const fallback = Math.max(Date.now() / 1000, ...ends);
  let end = Number(timeline.ended_at ?? fallback);
  if (!(end > start)) end = start + 1;
  return { start, end };
}

function severityIcon(severity) {
  const icons = { high: "\u2716\uFE0E", medium: "\u26A0\uFE0E", low: "\u2139\uFE0E" };
  const icon = el("span", "sev-icon", icons[severity] ?? icons.low);
  icon.setAttribute("aria-hidden", "true");
  return icon;
}

// ---- the score and its chart -----------------------------------------------------------------

function drawScore() {
  const now = document.getElementById("score-now");
  now.replaceChildren(scoreMeter(overview.score.score, "score--large"));
  now.dataset.score = String(overview.score.score);
  drawChart();
  const rows = document.getElementById("score-rows");
  rows.replaceChildren(
    ...(timeline.score_series ?? []).map((point) => {
      const row = el("tr");
      row.append(el("td", "", clock(point.ts)), el("td", "", scoreText(point.score)));
      return row;
    }),
  );
}

/**
 * The score series as chart points. The series has one point per start and end of a
 * violation; a start is a jump (the violation's weight is added at once), so a point just
 * before each start is added, or the line would show a slow climb where the score was flat.
 */
function chartPoints() {
  const weights = overview.score.weights ?? {};
  const jumps = new Map();
  for (const v of timeline.violations ?? []) {
    const weight = weights[v.kind];
    if (!weight || v.review?.decision === "dismissed") continue;
    const instant = v.count > 1 || !weight.per_minute;
    const jump = Math.min(weight.max_points, instant ? weight.weight * v.count : weight.weight);
    jumps.set(v.started_at, (jumps.get(v.started_at) ?? 0) + jump);
  }
  const points = [];
  for (const point of timeline.score_series ?? []) {
    const x = Number(point.ts);
    const y = Number(point.score);
    const jump = jumps.get(point.ts);
    if (jump) points.push({ x, y: Math.max(0, y - jump), synthetic: true });
    points.push({ x, y });
  }
  const { start } = spanOf();
  if (points.length && points[0].x > start) points.unshift({ x: start, y: 0 });
  return points;
}

function drawChart() {
  const plot = document.getElementById("score-plot");
  const points = chartPoints();
  const { start, end } = spanOf();
  const width = Math.max(280, Math.floor(plot.clientWidth || 720));
  const chart = lineChart(points, {
    xMin: start,
    xMax: Math.max(end, ...points.map((p) => p.x)),
    width,
    height: width < 500 ? 180 : 220,
    formatX: (x) => clock(x),
  });
  plot.replaceChildren(chart);
  plot.dataset.points = String(points.length);
}

let resizeTimer = null;
new ResizeObserver(() => {
  if (!timeline) return;
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(drawChart, 150);
}).observe(document.getElementById("score-plot"));

// ---- the violations timeline -----------------------------------------------------------------

function drawLanes() {
  const box = document.getElementById("lanes");
  const { start, end } = spanOf();
  const span = end - start;
  document.getElementById("lanes-span").textContent =
    `From ${clock(start)} to ${clock(end)} (${duration(span)})${timeline.ended_at ? "" : ", still in progress"}.`;
  const violations = timeline.violations ?? [];
  if (!violations.length) {
    box.replaceChildren(el("p", "muted", "No violation was recorded."));
    return;
  }
  const kinds = [...new Set(violations.map((v) => v.kind))];
  const lanes = el("ul", "lanes__list");
  for (const kind of kinds) {
    const lane = el("li", "lane");
    lane.append(el("span", "lane__label", label(kind)));
    const track = el("ol", "lane__track");
    track.setAttribute("aria-label", label(kind));
    for (const v of violations.filter((item) => item.kind === kind)) {
      const from = Math.max(0, (v.started_at - start) / span);
      const until = ((v.ended_at ?? end) - start) / span;
      const item = el("li", "seg");
      item.dataset.severity = SEVERITY[v.severity] ? v.severity : "low";
      if (v.review?.decision) item.dataset.decision = v.review.decision;
      item.style.left = `${(from * 100).toFixed(2)}%`;
      item.style.width = `${Math.max(0.8, (until - from) * 100).toFixed(2)}%`;
      const link = /** @type {HTMLAnchorElement} */ (el("a", "seg__link"));
      link.href = `#v-${v.id}`;
      const words = `${v.text || v.label}, ${clock(v.started_at)}` +
        (v.ended_at ? `–${clock(v.ended_at)}` : ", still open") +
        (v.review?.decision === "dismissed" ? ", dismissed" : "");
      link.title = words;
      link.append(
        severityIcon(item.dataset.severity),
        el("span", "visually-hidden", `${SEVERITY[item.dataset.severity].word} severity: ${words}`),
      );
      const lasted = v.count > 1 ? `\u00D7${v.count}` : duration((v.ended_at ?? end) - v.started_at);
      const tag = el("span", "seg__tag", lasted);
      tag.setAttribute("aria-hidden", "true");
      if (from > 0.8) item.dataset.tag = "before";
      item.append(link, tag);
      track.append(item);
    }
    lane.append(track);
    lanes.append(lane);
  }
  const axis = el("div", "lanes__axis");
  axis.setAttribute("aria-hidden", "true");
  for (const share of [0, 0.25, 0.5, 0.75, 1]) {
    const tick = el("span", "lanes__tick", clock(start + share * span));
    tick.style.left = `${share * 100}%`;
    axis.append(tick);
  }
  box.replaceChildren(lanes, axis);
}

// ---- snapshots -------------------------------------------------------------------------------

const dialog = /** @type {HTMLDialogElement} */ (document.getElementById("snap-dialog"));
const large = /** @type {HTMLImageElement} */ (document.getElementById("snap-large"));
let shown = 0;

function caption(snap) {
  return `${clock(snap.ts)}${snap.reason ? ` · ${snap.reason.replace(/_/g, " ")}` : ""}`;
}

function openSnapshot(index) {
  const snaps = timeline.snapshots ?? [];
  shown = (index + snaps.length) % snaps.length;
  const snap = snaps[shown];
  large.src = snap.url;
  large.alt = `Camera snapshot at ${caption(snap)}`;
  document.getElementById("snap-caption").textContent = `${caption(snap)} (${shown + 1} of ${snaps.length})`;
  if (!dialog.open) dialog.showModal();
}

document.getElementById("snap-prev").addEventListener("click", () => openSnapshot(shown - 1));
document.getElementById("snap-next").addEventListener("click", () => openSnapshot(shown + 1));
document.getElementById("snap-close").addEventListener("click", () => dialog.close());
dialog.addEventListener("keydown", (event) => {
  if (event.key === "ArrowLeft") openSnapshot(shown - 1);
  if (event.key === "ArrowRight") openSnapshot(shown + 1);
});

function drawSnapshots() {
  const list = document.getElementById("snaps");
  const snaps = timeline.snapshots ?? [];
  if (!snaps.length) {
    list.replaceChildren(el("li", "muted", "No snapshot was taken."));
    return;
  }
  list.replaceChildren(
    ...snaps.map((snap, index) => {
      const item = el("li", "snaps__item");
      const button = /** @type {HTMLButtonElement} */ (el("button", "snap"));
      button.type = "button";
      if (snap.violation_id) button.dataset.violation = snap.violation_id;
      const img = /** @type {HTMLImageElement} */ (el("img", "snap__img"));
      Object.assign(img, { src: snap.url, alt: "", width: 160, height: 120, loading: "lazy" });
      button.append(img, el("span", "snap__caption", caption(snap)));
      button.setAttribute("aria-label", `Open the snapshot of ${caption(snap)}`);
      button.addEventListener("click", () => openSnapshot(index));
      item.append(button);
      return item;
    }),
  );
}

// ---- decisions -------------------------------------------------------------------------------

function decisionText(review) {
  if (!review) return "Not reviewed yet.";
  const done = DECISIONS[review.decision]?.done ?? review.decision;
  const who = review.reviewer_id ? ` by reviewer #${review.reviewer_id}` : "";
  return `${done}${who} at ${clock(review.decided_at)}${review.note ? `: \u201C${review.note}\u201D` : "."}`;
}

async function decide(violation, decision, note, region) {
  const before = overview.score.score;
  setStatus(region, "Saving…", "progress");
  try {
    await api(`${base}/violations/${encodeURIComponent(violation.id)}/review`, {
      method: "PUT",
      json: { decision, note },
    });
    await load();
    const after = overview.score.score;
    const change = after === before ? `The score stays at ${scoreText(after)}.`
      : `The score is now ${scoreText(after)} (was ${scoreText(before)}).`;
    const card = document.getElementById(`v-${violation.id}`);
    setStatus(card?.querySelector(".form-status") ?? status, `${DECISIONS[decision].done}. ${change}`, "success");
    card?.querySelector(`button[value="${decision}"]`)?.focus();
  } catch (error) {
    setStatus(region, error.message, "danger");
  }
}

function drawDecisions() {
  const list = document.getElementById("decisions");
  const violations = [...(timeline.violations ?? [])].sort((a, b) => a.started_at - b.started_at);
  if (!violations.length) {
    list.replaceChildren(el("li", "muted", "Nothing to decide: no violation was recorded."));
    return;
  }
  list.replaceChildren(
    ...violations.map((v) => {
      const item = el("li", "decision");
      item.id = `v-${v.id}`;
      item.tabIndex = -1;
      item.dataset.violation = v.id;
      if (v.review?.decision) item.dataset.decision = v.review.decision;
      const severity = SEVERITY[v.severity] ? v.severity : "low";
      const head = el("div", "decision__head");
      const badge = el("span", `badge ${SEVERITY[severity].className}`);
      const words = v.text ? `${v.text.charAt(0).toUpperCase()}${v.text.slice(1)}` : v.label;
      badge.append(el("span", "visually-hidden", `${SEVERITY[severity].word} severity: `), words);
      const heading = el("h3", "decision__title");
      heading.append(badge);
      heading.id = `v-${v.id}-title`;
      const when = el(
        "p",
        "muted decision__when",
        `${clock(v.started_at)}${v.ended_at ? `–${clock(v.ended_at)}` : ", still open"}` +
          (v.count > 1 ? ` · ${v.count} times` : ""),
      );
      head.append(heading, when);
      const current = el("p", "decision__current", decisionText(v.review));
      const form = /** @type {HTMLFormElement} */ (el("form", "decision__form"));
      form.noValidate = true;
      const noteId = `v-${v.id}-note`;
      const noteBox = el("div", "field decision__note");
      const noteLabel = /** @type {HTMLLabelElement} */ (el("label", "", "Note"));
      noteLabel.htmlFor = noteId;
      const note = /** @type {HTMLInputElement} */ (el("input", "input"));
      Object.assign(note, { id: noteId, name: "note", maxLength: 2000, value: v.review?.note ?? "" });
      noteBox.append(noteLabel, note);
      const buttons = el("div", "cluster decision__buttons");
      for (const [decision, words] of Object.entries(DECISIONS)) {
        const button = /** @type {HTMLButtonElement} */ (el(
          "button",
          `btn btn--small ${decision === "dismissed" ? "btn--secondary" : decision === "confirmed" ? "btn--primary" : "btn--secondary"}`,
        ));
        button.type = "submit";
        button.value = decision;
        button.setAttribute("aria-describedby", heading.id);
        button.setAttribute("aria-pressed", String(v.review?.decision === decision));
        const icon = el("span", "", words.icon);
        icon.setAttribute("aria-hidden", "true");
        button.append(icon, ` ${words.button}`);
        buttons.append(button);
      }
      const region = el("div", "form-status");
      region.setAttribute("role", "status");
      region.setAttribute("aria-live", "polite");
      form.append(noteBox, buttons, region);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const decision = /** @type {HTMLButtonElement|null} */ (event.submitter)?.value;
        if (!decision) return;
        for (const button of form.querySelectorAll("button")) button.disabled = true;
        await decide(v, decision, note.value.trim(), region);
        for (const button of form.querySelectorAll("button")) button.disabled = false;
      });
      item.append(head, current, form);
      return item;
    }),
  );
}

// ---- the breakdown ---------------------------------------------------------------------------

/**
 * The breakdown as a table: each contribution with its formula, dismissed ones struck through.
 * @param {any} breakdown a ScoreBreakdown
 * @returns {HTMLElement}
 */
function breakdownTable(breakdown) {
  const wrap = el("div", "table-wrap");
  const table = el("table", "table breakdown");
  const head = el("thead");
  const headRow = el("tr");
  for (const name of ["Violation", "Started", "Lasted", "How", "Points"]) {
    const th = el("th", name === "Points" ? "num" : "", name);
    th.setAttribute("scope", "col");
    headRow.append(th);
  }
  head.append(headRow);
  const body = el("tbody");
  for (const c of breakdown.contributions ?? []) {
    const row = el("tr");
    row.dataset.violation = c.violation_id;
    const name = el("td");
    name.append(severityIcon(c.severity), ` ${c.label}`);
    row.append(
      name,
      el("td", "", clock(c.started_at)),
      el("td", "", c.count > 1 ? `${c.count} times` : duration(c.duration_s)),
      el("td", "formula", c.formula),
      el("td", "num", scoreText(c.points)),
    );
    body.append(row);
  }
  for (const id of breakdown.excluded ?? []) {
    const v = (timeline.violations ?? []).find((item) => item.id === id);
    const row = el("tr", "is-excluded");
    row.dataset.violation = id;
    const name = el("td");
    const struck = el("del", "", v ? v.label : id);
    name.append(struck, el("span", "excluded-tag", " dismissed"));
    row.append(
      name,
      el("td", "", v ? clock(v.started_at) : ""),
      el("td", "", v ? (v.count > 1 ? `${v.count} times` : duration((v.ended_at ?? v.started_at) - v.started_at)) : ""),
      el("td", "formula muted", "Dismissed by a reviewer: adds nothing"),
      el("td", "num", "0"),
    );
    body.append(row);
  }
  if (!body.children.length) {
    const row = el("tr");
    const cell = el("td", "muted", "No violation adds to the score.");
    cell.setAttribute("colspan", "5");
    row.append(cell);
    body.append(row);
  }
  const foot = el("tfoot");
  const total = el("tr");
  const sum = el("th", "", "Score (sum, at most 100)");
  sum.setAttribute("scope", "row");
  sum.setAttribute("colspan", "4");
  total.append(sum, el("td", "num breakdown__total", scoreText(breakdown.score)));
  foot.append(total);
  table.append(head, body, foot);
  wrap.append(table);
  return wrap;
}

function drawBreakdown() {
  document.getElementById("breakdown").replaceChildren(breakdownTable(overview.score));
}

// ---- recompute -------------------------------------------------------------------------------

const recomputeForm = /** @type {HTMLFormElement} */ (document.getElementById("recompute-form"));
const recomputeStatus = document.getElementById("recompute-status");
const result = document.getElementById("recompute-result");
const FIELDS = [
  ["weight", "Weight"],
  ["per_minute", "Per minute"],
  ["max_points", "Max"],
];

function drawWeights(weights) {
  const body = document.getElementById("weights");
  const present = new Set((timeline.violations ?? []).map((v) => v.kind));
  const kinds = Object.keys(weights).sort((a, b) => Number(present.has(b)) - Number(present.has(a)) || a.localeCompare(b));
  body.replaceChildren(
    ...kinds.map((kind) => {
      const row = el("tr");
      row.dataset.kind = kind;
      const name = el("th", "", label(kind));
      name.setAttribute("scope", "row");
      if (present.has(kind)) name.append(el("span", "muted", " (in this attempt)"));
      row.append(name);
      for (const [field, words] of FIELDS) {
        const cell = el("td");
        const id = `w-${kind}-${field}`;
        const text = /** @type {HTMLLabelElement} */ (el("label", "visually-hidden", `${label(kind)}: ${words}`));
        text.htmlFor = id;
        const input = /** @type {HTMLInputElement} */ (el("input", "input input--weight"));
        Object.assign(input, {
          id, name: `${kind}.${field}`, type: "number", min: "0", max: "100", step: "any",
          inputMode: "decimal", value: String(weights[kind]?.[field] ?? 0),
        });
        cell.append(text, input);
        row.append(cell);
      }
      return row;
    }),
  );
}

function readWeights() {
  const weights = {};
  let bad = null;
  for (const row of document.getElementById("weights").querySelectorAll("tr[data-kind]")) {
    const entry = {};
    for (const [field] of FIELDS) {
      const input = row.querySelector(`input[name="${row.dataset.kind}.${field}"]`);
      const value = Number(input.value);
      const ok = input.value.trim() !== "" && Number.isFinite(value) && value >= 0 && value <= 100;
      input.toggleAttribute("aria-invalid", !ok);
      if (ok) entry[field] = value;
      else bad ??= input;
    }
    weights[row.dataset.kind] = entry;
  }
  if (bad) {
    bad.focus();
    return null;
  }
  return weights;
}

async function recompute(save) {
  const weights = save ? preview : readWeights();
  if (!weights) {
    setStatus(recomputeStatus, "Every value must be a number from 0 to 100.", "danger");
    return;
  }
  setStatus(recomputeStatus, save ? "Saving…" : "Recomputing…", "progress");
  try {
    const breakdown = await api(`${base}/score/recompute`, { method: "POST", json: { weights, save } });
    if (save) {
      await load();
      result.hidden = true;
      preview = null;
      setStatus(recomputeStatus, `Saved. The score is now ${scoreText(overview.score.score)}.`, "success");
    } else {
      preview = weights;
      const box = document.getElementById("recompute-breakdown");
      box.replaceChildren(breakdownTable(breakdown));
      result.hidden = false;
      result.dataset.score = String(breakdown.score);
      setStatus(
        recomputeStatus,
        `With these weights the score would be ${scoreText(breakdown.score)} (now ${scoreText(overview.score.score)}). Not saved.`,
        "info",
      );
    }
  } catch (error) {
    setStatus(recomputeStatus, error.message, "danger");
  }
}

recomputeForm.addEventListener("submit", (event) => {
  event.preventDefault();
  recompute(false);
});
recomputeForm.addEventListener("input", () => {
  if (!result.hidden) {
    result.hidden = true;
    preview = null;
  }
});
document.getElementById("recompute-save").addEventListener("click", () => recompute(true));
document.getElementById("recompute-reset").addEventListener("click", () => {
  drawWeights(exams);
  result.hidden = true;
  preview = null;
  setStatus(recomputeStatus, "");
});

// ---- loading ---------------------------------------------------------------------------------

async function load() {
  [overview, timeline] = await Promise.all([api(base), api(`${base}/timeline`)]);
  drawScore();
  drawLanes();
  drawSnapshots();
  drawDecisions();
  drawBreakdown();
  root.dataset.loaded = "true";
}

try {
  await load();
  exams = overview.score.weights ?? {};
  drawWeights(exams);
} catch (error) {
  setStatus(status, error.message, "danger");
}
