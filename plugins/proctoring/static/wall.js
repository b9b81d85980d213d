// The live wall: one tile per attempt in progress, from the proctor WebSocket ("hello", then
// "tile" / "alert" / "removed"). A proctor watching thirty tiles must not have them jump under
// the pointer, so live updates change tiles in place and new alerts are outlined and counted;
// the order changes only on "Sort by risk" or after a minute without any input. Arrow keys move
// between tiles (one tab stop for the whole grid) and Enter opens the focus view.

import {
  badgeElement,
  connectionElement,
  el,
  openFeed,
  pausedElement,
  riskCompare,
  scoreLevel,
  scoreMeter,
  showFeedState,
} from "./common.js";

const IDLE_RESORT_MS = 60_000;
const IDLE_CHECK_MS = 5_000;
const LEVELS = { low: 0, medium: 1, high: 2 };

const grid = document.getElementById("wall");
const empty = document.getElementById("wall-empty");
const count = document.getElementById("wall-count");
const live = document.getElementById("wall-live");
const examSelect = /** @type {HTMLSelectElement} */ (document.getElementById("wall-exam"));
const sortButton = document.getElementById("wall-sort");
const newButton = document.getElementById("wall-new");
const newCount = document.getElementById("wall-new-count");
const announce = document.getElementById("wall-announce");

/** attempt id → {tile, node, unseen (alerts since the proctor last looked at it)} */
const entries = new Map();
/** exam id → title, for the filter; grows as tiles arrive and never forgets. */
const exams = new Map();
let order = []; // attempt ids in the order shown
let current = ""; // the attempt whose tile holds the tab stop
let lastInput = Date.now();
let loaded = false;

// ---- drawing ---------------------------------------------------------------------------

/** The thumbnail, or a placeholder when there is none (or it could not be loaded). */
function thumbnail(tile) {
  const box = el("span", "tile__thumb");
  if (tile.thumbnail_at) {
    const img = /** @type {HTMLImageElement} */ (el("img"));
    img.alt = "";
    img.width = 160;
    img.height = 120;
    img.decoding = "async";
    img.src = `/api/v1/proctor/attempts/${encodeURIComponent(tile.attempt_id)}/thumbnail?v=${encodeURIComponent(tile.thumbnail_at)}`;
    img.addEventListener("error", () => {
      box.dataset.missing = "true";
      img.remove();
    });
    box.append(img);
  } else {
    box.dataset.missing = "true";
  }
  const note = el("span", "tile__nopic", "No picture");
  note.setAttribute("aria-hidden", "true");
  box.append(note);
  return box;
}

/** Fill a tile's link with the tile's state (rebuilt whole: a tile is small). */
function drawTile(entry) {
  const { tile, node } = entry;
  const link = node.firstElementChild;
  const previous = link.querySelector(".tile__thumb");
  const keepThumb = previous && previous.dataset.at === String(tile.thumbnail_at ?? "");
  const thumb = keepThumb ? previous : thumbnail(tile);
  thumb.dataset.at = String(tile.thumbnail_at ?? "");

  const head = el("span", "tile__head");
  const name = el("span", "tile__name", tile.candidate || `Candidate #${tile.user_id}`);
  const exam = el("span", "tile__exam", tile.exam_title || `Exam ${tile.exam_id}`);
  name.title = name.textContent;
  exam.title = exam.textContent;
  head.append(
    name,
    exam,
    connectionElement(tile.proctored === false ? "none" : tile.connection),
  );
  const badges = el("span", "tile__badges");
  const list = Array.isArray(tile.badges) ? tile.badges : [];
  for (const badge of list) badges.append(badgeElement(badge));
  if (!list.length) badges.append(el("span", "tile__clear muted", "No open violation"));
  const flags = el("span", "tile__flags");
  if (tile.paused) flags.append(pausedElement());
  if (entry.unseen > 0) {
    const risen = el("span", "badge tile__risen");
    const icon = el("span", "", "\u25B2");
    icon.setAttribute("aria-hidden", "true");
    risen.append(icon, el("span", "", entry.unseen === 1 ? "1 new alert" : `${entry.unseen} new alerts`));
    flags.append(risen);
  }
  const total = el(
    "span",
    "tile__total muted",
    `${tile.violations ?? 0} violation${tile.violations === 1 ? "" : "s"}`,
  );
  const score = el("span", "tile__score");
  score.append(scoreMeter(tile.score), total);
  link.replaceChildren(thumb, head, score, badges, flags);
  node.classList.toggle("is-risen", entry.unseen > 0);
  node.classList.toggle("is-paused", Boolean(tile.paused));
  node.dataset.connection = tile.connection ?? "none";
  node.dataset.score = String(Number(tile.score) || 0);
}

/** A new tile element (a link to the focus view). */
function makeNode(tile) {
  const node = el("li", "wall__cell");
  node.dataset.attempt = tile.attempt_id;
  const link = /** @type {HTMLAnchorElement} */ (el("a", "tile"));
  link.href = `/proctor/attempts/${encodeURIComponent(tile.attempt_id)}`;
  link.tabIndex = -1;
  node.append(link);
  return node;
}

/** Put the nodes in `order` (moving only what moved) and keep the tab stop on one tile. */
function layout() {
  const focused = document.activeElement?.closest?.(".wall__cell")?.dataset.attempt;
  let previous = null;
  for (const id of order) {
    const { node } = entries.get(id);
    const expected = previous ? previous.nextSibling : grid.firstChild;
    if (node !== expected) grid.insertBefore(node, expected);
    previous = node;
  }
  if (!entries.has(current)) current = order[0] ?? "";
  for (const [id, entry] of entries) entry.node.firstElementChild.tabIndex = id === current ? 0 : -1;
  const link = focused && entries.has(focused) ? entries.get(focused).node.firstElementChild : null;
  if (link && document.activeElement !== link) link.focus({ preventScroll: true });
  summarise();
}

function summarise() {
  const total = entries.size;
  empty.hidden = !loaded || total > 0;
  const risen = [...entries.values()].filter((entry) => entry.unseen > 0);
  const alerts = risen.reduce((sum, entry) => sum + entry.unseen, 0);
  count.textContent = loaded ? `${total} attempt${total === 1 ? "" : "s"} in progress` : "Loading attempts…";
  newButton.hidden = alerts === 0;
  newCount.textContent = alerts === 1 ? "1 new alert" : `${alerts} new alerts`;
}

function sortedOrder() {
  return [...entries.values()].map((entry) => entry.tile).sort(riskCompare).map((t) => t.attempt_id);
}

function isSorted() {
  const sorted = sortedOrder();
  return sorted.every((id, index) => order[index] === id);
}

function resort() {
  order = sortedOrder();
  layout();
}

// ---- the exam filter ---------------------------------------------------------------------

function rememberExam(tile) {
  const id = String(tile.exam_id);
  if (exams.get(id) === tile.exam_title) return;
  exams.set(id, tile.exam_title || `Exam ${id}`);
  const chosen = examSelect.value;
  const options = [...exams].sort((a, b) => a[1].localeCompare(b[1]));
  const first = examSelect.options[0];
  examSelect.replaceChildren(first);
  for (const [value, title] of options) {
    const option = /** @type {HTMLOptionElement} */ (el("option", "", title));
    option.value = value;
    examSelect.append(option);
  }
  examSelect.value = chosen;
}

// ---- feed messages -------------------------------------------------------------------------

/** A tile arrived: update it in place, or add it at the end (never reshuffle for it). */
function upsert(tile, { fresh = false } = {}) {
  rememberExam(tile);
  let entry = entries.get(tile.attempt_id);
  if (!entry) {
    entry = { tile, node: makeNode(tile), unseen: 0 };
    entries.set(tile.attempt_id, entry);
    if (!fresh) order.push(tile.attempt_id);
  } else {
    entry.tile = tile;
  }
  drawTile(entry);
  return entry;
}

function remove(attemptId) {
  const entry = entries.get(attemptId);
  if (!entry) return;
  const index = order.indexOf(attemptId);
  const hadFocus = entry.node.contains(document.activeElement);
  entries.delete(attemptId);
  order = order.filter((id) => id !== attemptId);
  entry.node.remove();
  if (current === attemptId) current = order[Math.min(index, order.length - 1)] ?? "";
  layout();
  if (hadFocus && current) entries.get(current).node.firstElementChild.focus();
}

/** "hello": the whole picture. Known tiles keep their places; the first one is risk-sorted. */
function hello(tiles) {
  const seen = new Set();
  for (const tile of tiles) {
    seen.add(tile.attempt_id);
    upsert(tile, { fresh: !loaded });
  }
  for (const id of [...entries.keys()]) {
    if (!seen.has(id)) {
      entries.get(id).node.remove();
      entries.delete(id);
    }
  }
  if (!loaded) {
    loaded = true;
    order = sortedOrder();
  } else {
    order = order.filter((id) => entries.has(id));
    for (const id of tiles.map((tile) => tile.attempt_id)) if (!order.includes(id)) order.push(id);
  }
  layout();
}

function onAlert(message) {
  const entry = entries.get(message.attempt_id);
  if (!entry) return;
  entry.unseen += 1;
  const v = message.violation ?? {};
  announce.textContent = `New alert for ${entry.tile.candidate}: ${v.text || v.label || "a violation"}.`;
  drawTile(entry);
  // Restart the pulse even when the tile was already outlined.
  entry.node.classList.remove("is-pulsing");
  void entry.node.offsetWidth;
  entry.node.classList.add("is-pulsing");
  summarise();
}

function onMessage(data) {
  switch (data.type) {
    case "hello":
      hello(Array.isArray(data.tiles) ? data.tiles : []);
      break;
    case "tile":
      if (data.tile?.attempt_id) {
        const known = entries.has(data.tile.attempt_id);
        const before = known ? entries.get(data.tile.attempt_id).tile.score : 0;
        const entry = upsert(data.tile);
        // Open violations make scores creep up all the time; only a new band is news.
        if (known && LEVELS[scoreLevel(data.tile.score)] > LEVELS[scoreLevel(before)]) {
          entry.node.classList.add("is-rising");
        }
        if (!known) layout();
        else summarise();
      }
      break;
    case "alert":
      onAlert(data);
      break;
    case "removed":
      remove(data.attempt_id);
      break;
    default:
      break;
  }
}

// ---- keyboard and attention ----------------------------------------------------------------

/** How many tiles one row holds right now (the grid reflows with the window). */
function columns() {
  const nodes = order.map((id) => entries.get(id).node);
  if (!nodes.length) return 1;
  const top = nodes[0].offsetTop;
  const inRow = nodes.findIndex((node) => node.offsetTop !== top);
  return inRow === -1 ? nodes.length : inRow;
}

function focusTile(id) {
  const entry = entries.get(id);
  if (!entry) return;
  current = id;
  for (const [other, item] of entries) item.node.firstElementChild.tabIndex = other === id ? 0 : -1;
  entry.node.firstElementChild.focus();
  entry.node.scrollIntoView({ block: "nearest" });
}

/** The proctor has looked at a tile: its new alerts are no longer new. */
function seen(id) {
  const entry = entries.get(id);
  if (!entry || (entry.unseen === 0 && !entry.node.classList.contains("is-rising"))) return;
  entry.unseen = 0;
  entry.node.classList.remove("is-rising", "is-pulsing");
  drawTile(entry);
  summarise();
}

grid.addEventListener("keydown", (event) => {
  const cell = event.target.closest?.(".wall__cell");
  if (!cell || event.altKey || event.ctrlKey || event.metaKey) return;
  const index = order.indexOf(cell.dataset.attempt);
  const step = {
    ArrowRight: 1,
    ArrowLeft: -1,
    ArrowDown: columns(),
    ArrowUp: -columns(),
    Home: -index,
    End: order.length - 1 - index,
  }[event.key];
  if (step === undefined) return;
  event.preventDefault();
  const target = Math.max(0, Math.min(order.length - 1, index + step));
  focusTile(order[target]);
});

grid.addEventListener("focusin", (event) => {
  const cell = event.target.closest?.(".wall__cell");
  if (!cell) return;
  current = cell.dataset.attempt;
  for (const [id, item] of entries) item.node.firstElementChild.tabIndex = id === current ? 0 : -1;
  seen(current);
});

grid.addEventListener("animationend", (event) => {
  event.target.closest?.(".wall__cell")?.classList.remove("is-pulsing");
});

for (const type of ["pointerdown", "keydown", "wheel", "touchstart", "focusin"]) {
  document.addEventListener(type, () => { lastInput = Date.now(); }, { passive: true, capture: true });
}
let lastMove = 0;
document.addEventListener("pointermove", () => {
  const now = Date.now();
  if (now - lastMove > 1000) lastInput = lastMove = now;
}, { passive: true });

// Nobody is using the wall: bring the riskiest tiles to the top for when they look again.
setInterval(() => {
  if (Date.now() - lastInput >= IDLE_RESORT_MS && loaded && !isSorted()) resort();
}, IDLE_CHECK_MS);

sortButton.addEventListener("click", () => resort());

newButton.addEventListener("click", () => {
  const first = order.find((id) => entries.get(id).unseen > 0);
  if (first) focusTile(first);
});

// ---- start -------------------------------------------------------------------------------

const initialExam = grid.dataset.exam ?? "";

const feed = openFeed({
  examId: initialExam,
  onMessage,
  onState: (state) => {
    showFeedState(live, state);
    document.documentElement.dataset.wall = state;
  },
});

examSelect.addEventListener("change", () => {
  const url = new URL(location.href);
  if (examSelect.value) url.searchParams.set("exam_id", examSelect.value);
  else url.searchParams.delete("exam_id");
  history.replaceState(null, "", url);
  for (const entry of entries.values()) entry.node.remove();
  entries.clear();
  order = [];
  loaded = false;
  summarise();
  feed.setExam(examSelect.value);
});

window.addEventListener("pagehide", () => feed.close());
document.addEventListener("inv:session-ended", () => feed.close());
