// The code editor: the page's own <textarea> (so autosave, labels and form reading stay as
// they are) laid over a highlighted <pre>, with line numbers. Tab indents and Shift+Tab
// outdents; Escape first, then Tab, leaves the editor, so keyboard users are never trapped.

import { paint } from "./highlight.js";

const INDENT = "    ";

/** Insert text at the selection the way typing does (undo works, `input` fires). */
function insert(area, text) {
  area.focus();
  if (!document.execCommand?.("insertText", false, text)) {
    area.setRangeText(text, area.selectionStart, area.selectionEnd, "end");
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }
}

function outdent(area) {
  const { value, selectionStart } = area;
  const lineStart = value.lastIndexOf("\n", selectionStart - 1) + 1;
  const spaces = value.slice(lineStart, lineStart + INDENT.length).match(/^ */)[0].length;
  if (!spaces) return;
  area.setSelectionRange(lineStart, lineStart + spaces);
  insert(area, "");
  area.setSelectionRange(Math.max(selectionStart - spaces, lineStart), Math.max(selectionStart - spaces, lineStart));
}

/**
 * Turn `area` into a highlighting editor. Returns `setMode(mode)` and `refresh()`.
 * @param {HTMLTextAreaElement} area @param {string} mode
 */
export function codeEditor(area, mode) {
  const box = document.createElement("div");
  box.className = "code-editor";
  const gutter = document.createElement("div");
  gutter.className = "code-editor__gutter";
  gutter.setAttribute("aria-hidden", "true");
  const stack = document.createElement("div");
  stack.className = "code-editor__stack";
  const pre = document.createElement("pre");
  pre.className = "code-editor__highlight";
  pre.setAttribute("aria-hidden", "true");
  area.replaceWith(box);
  area.classList.add("code-editor__input");
  area.wrap = "off";
  stack.append(pre, area);
  box.append(gutter, stack);
  let current = mode;
  let escaped = false;

  const refresh = () => {
    paint(pre, area.value, current);
    const lines = area.value.split("\n").length;
    if (gutter.childElementCount !== lines) {
      gutter.replaceChildren(...Array.from({ length: lines }, (_, n) => {
        const line = document.createElement("span");
        line.textContent = String(n + 1);
        return line;
      }));
    }
    sync();
  };
  const sync = () => {
    pre.scrollTop = area.scrollTop;
    pre.scrollLeft = area.scrollLeft;
    gutter.scrollTop = area.scrollTop;
  };
  area.addEventListener("input", refresh);
  area.addEventListener("scroll", sync);
  area.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { escaped = true; return; }
    if (event.key !== "Tab" || escaped || event.ctrlKey || event.metaKey || event.altKey) {
      escaped = false;
      return;
    }
    event.preventDefault();
    if (event.shiftKey) outdent(area);
    else insert(area, INDENT);
  });
  area.addEventListener("blur", () => { escaped = false; });
  refresh();
  return {
    setMode(next) { current = next; refresh(); },
    refresh,
  };
}
