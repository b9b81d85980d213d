// A small tokenizer for the code editor: keywords, strings, comments, numbers. Enough to read
// code comfortably; it never has to be a parser. Tokens become <span class="tok-…"> elements.

const KEYWORDS = {
  python: "False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield print len range int str float list dict set tuple input",
  c: "auto break case char const continue default do double else enum extern float for goto if inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while include define printf scanf NULL",
  cpp: "auto bool break case catch char class const constexpr continue default delete do double else enum explicit extern false float for friend if inline int long namespace new nullptr operator private protected public return short signed sizeof static struct switch template this throw true try typedef typename union unsigned using virtual void volatile while include define std cin cout endl vector string",
  javascript: "async await break case catch class const continue debugger default delete do else export extends false finally for function if import in instanceof let new null of return static super switch this throw true try typeof undefined var void while with yield console",
};
const SETS = Object.fromEntries(Object.entries(KEYWORDS).map(([k, v]) => [k, new Set(v.split(" "))]));
const COMMENT = { python: /#.*/y, c: /\/\/.*|\/\*[\s\S]*?(\*\/|$)/y, javascript: /\/\/.*|\/\*[\s\S]*?(\*\/|$)/y };
COMMENT.cpp = COMMENT.c;
const STRING = /"""[\s\S]*?("""|$)|'''[\s\S]*?('''|$)|"(\\.|[^"\\\n])*"?|'(\\.|[^'\\\n])*'?|`(\\.|[^`\\])*`?/y;
const NUMBER = /\b(0x[0-9a-fA-F]+|\d+\.?\d*([eE][+-]?\d+)?)\b/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const PREPROCESSOR = /#\s*[a-z]+/y;

/** The editor modes this highlighter knows (others are shown as plain text). */
export const MODES = Object.keys(KEYWORDS);

/**
 * Split `code` into `[className, text]` pieces ("" for plain text).
 * @param {string} code @param {string} mode
 * @returns {[string, string][]}
 */
export function tokenize(code, mode) {
  const words = SETS[mode];
  if (!words) return [["", code]];
  const out = [];
  let plain = "";
  let i = 0;
  const take = (re) => { re.lastIndex = i; const m = re.exec(code); return m && m[0] ? m[0] : null; };
  while (i < code.length) {
    let cls = "";
    let text = null;
    if ((mode === "c" || mode === "cpp") && code[i] === "#" && (text = take(PREPROCESSOR))) cls = "tok-meta";
    else if ((text = take(COMMENT[mode]))) cls = "tok-comment";
    else if (`"'\``.includes(code[i]) && (mode === "javascript" || code[i] !== "`") && (text = take(STRING))) cls = "tok-string";
    else if (/[0-9]/.test(code[i]) && (i === 0 || !/[A-Za-z_]/.test(code[i - 1])) && (text = take(NUMBER))) cls = "tok-number";
    else if (/[A-Za-z_]/.test(code[i]) && (text = take(WORD))) cls = words.has(text) ? "tok-keyword" : "";
    if (text === null) { plain += code[i]; i += 1; continue; }
    if (!cls) { plain += text; i += text.length; continue; }
    if (plain) { out.push(["", plain]); plain = ""; }
    out.push([cls, text]);
    i += text.length;
  }
  if (plain) out.push(["", plain]);
  return out;
}

/** Fill `pre` with the highlighted `code` (text nodes only: never HTML from the code). */
export function paint(pre, code, mode) {
  const nodes = tokenize(code, mode).map(([cls, text]) => {
    if (!cls) return document.createTextNode(text);
    const span = document.createElement("span");
    span.className = cls;
    span.textContent = text;
    return span;
  });
  // A trailing newline needs a character after it, or the last empty line has no height.
  nodes.push(document.createTextNode(code.endsWith("\n") || !code ? " " : ""));
  pre.replaceChildren(...nodes);
}
