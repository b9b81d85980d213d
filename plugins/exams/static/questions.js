// One question on the exam page, drawn per type, and the response read back from the form.
// Every control is labelled; options sit in a fieldset whose legend says how many to pick.

/**
 * @param {string} tag @param {Record<string, string>} [attrs] @param {string} [text]
 * @returns {HTMLElement}
 */
function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

/** A labelled field: label above, then the control, then an error slot. */
function field(id, label, control, hint = "") {
  const box = el("div", { class: "field" });
  box.append(el("label", { for: id }, label));
  if (hint) box.append(el("p", { class: "hint", id: `${id}-hint` }, hint));
  control.id = id;
  control.setAttribute("aria-describedby", `${hint ? `${id}-hint ` : ""}${id}-error`);
  box.append(control, el("p", { class: "field-error", id: `${id}-error`, hidden: "" }));
  return box;
}

function choices(legend, type, options, checked) {
  const set = el("fieldset", { class: "options" });
  set.append(el("legend", {}, legend));
  for (const [index, option] of options.entries()) {
    const row = el("div", { class: "option" });
    const id = `opt-${index}`;
    const input = el("input", { type, name: "answer", id, value: option.id });
    input.checked = checked.includes(option.id);
    const label = el("label", { for: id }, option.text);
    // text_html is the option's Markdown rendered inline and sanitised on the server
    // (plugins/questions/rendering.py), so `code` in an option shows as code.
    if (option.text_html) label.innerHTML = option.text_html;
    row.append(input, label);
    set.append(row);
  }
  return set;
}

/** Words in a text, as the word count shows them. */
export function countWords(text) {
  return (text.trim().match(/\S+/g) ?? []).length;
}

function wordCount(question, text) {
  const words = countWords(text);
  const limits = [];
  if (question.min_words) limits.push(`at least ${question.min_words}`);
  if (question.max_words) limits.push(`at most ${question.max_words}`);
  return `${words} ${words === 1 ? "word" : "words"}${limits.length ? ` (${limits.join(", ")})` : ""}`;
}

/**
 * Fill `form` with the controls of `question` showing `response`.
 * @param {HTMLFormElement} form
 * @param {{type: string, options?: {id: string, text: string}[], unit?: string,
 *          languages?: string[], starter_code?: Record<string, string>,
 *          samples?: {input: string, output: string}[], min_words?: number, max_words?: number}} question
 * @param {Record<string, any>|null} response
 */
export function renderQuestion(form, question, response) {
  form.replaceChildren();
  form.dataset.type = question.type;
  const r = response ?? {};
  switch (question.type) {
    case "single_choice":
      form.append(choices("Choose one answer", "radio", question.options ?? [], r.selected ?? []));
      break;
    case "multiple_choice":
      form.append(choices("Choose every answer that applies", "checkbox", question.options ?? [], r.selected ?? []));
      break;
    case "true_false": {
      const picked = r.value === true ? ["true"] : r.value === false ? ["false"] : [];
      form.append(choices("True or false?", "radio", [{ id: "true", text: "True" }, { id: "false", text: "False" }], picked));
      break;
    }
    case "numeric": {
      const input = el("input", { class: "input input--number", type: "text", inputmode: "decimal", name: "answer", autocomplete: "off" });
      input.value = r.value ?? "";
      const hint = question.unit ? `A number, in ${question.unit}. Use a dot for decimals.` : "A number. Use a dot for decimals.";
      form.append(field("answer", "Your answer", input, hint));
      break;
    }
    case "short_answer": {
      const input = el("input", { class: "input", type: "text", name: "answer", autocomplete: "off", spellcheck: "false" });
      input.value = r.text ?? "";
      form.append(field("answer", "Your answer", input));
      break;
    }
    case "essay": {
      const area = el("textarea", { class: "textarea textarea--essay", name: "answer", rows: "12" });
      area.value = r.text ?? "";
      const box = field("answer", "Your answer", area);
      const count = el("p", { class: "hint word-count", id: "word-count" }, wordCount(question, area.value));
      area.setAttribute("aria-describedby", `${area.getAttribute("aria-describedby")} word-count`);
      area.addEventListener("input", () => { count.textContent = wordCount(question, area.value); });
      box.append(count);
      form.append(box);
      break;
    }
    case "coding":
      renderCoding(form, question, r);
      break;
    default:
      form.append(el("p", { class: "alert alert--warning" }, "This question type cannot be answered on this page. Tell your examiner."));
  }
}

function renderCoding(form, question, r) {
  const languages = question.languages ?? [];
  const language = languages.includes(r.language) ? r.language : languages[0];
  const select = el("select", { class: "select", name: "language" });
  for (const name of languages) select.append(el("option", { value: name }, name));
  select.value = language;
  form.append(field("language", "Language", select));
  const area = el("textarea", { class: "textarea textarea--code", name: "code", rows: "14", spellcheck: "false", autocapitalize: "off" });
  area.value = r.code ?? question.starter_code?.[language] ?? "";
  form.append(field("code", "Your program", area, "Tab moves to the next control; indent with spaces."));
  for (const [index, sample] of (question.samples ?? []).entries()) {
    const box = el("details", { class: "sample" });
    box.append(el("summary", {}, `Sample ${index + 1}`));
    box.append(el("p", { class: "label" }, "Input"), el("pre", {}, sample.input || "(none)"));
    box.append(el("p", { class: "label" }, "Expected output"), el("pre", {}, sample.output));
    form.append(box);
  }
}

/**
 * The response in the form, in the API's shape; `{error}` when it cannot be read (a number).
 * @param {HTMLFormElement} form
 * @returns {{response?: Record<string, any>, error?: string}}
 */
export function readResponse(form) {
  const picked = [...form.querySelectorAll("input[name=answer]:checked")].map((input) => input.value);
  const text = form.elements.namedItem("answer")?.value ?? "";
  switch (form.dataset.type) {
    case "single_choice":
    case "multiple_choice":
      return { response: { selected: picked } };
    case "true_false":
      return { response: { value: picked.length ? picked[0] === "true" : null } };
    case "numeric": {
      const cleaned = text.trim().replace(",", ".");
      if (!cleaned) return { response: { value: null } };
      const value = Number(cleaned);
      if (!Number.isFinite(value)) return { error: "Enter a number, like 3.5. This answer is not saved yet." };
      return { response: { value } };
    }
    case "short_answer":
    case "essay":
      return { response: { text } };
    case "coding":
      return { response: { language: form.elements.namedItem("language").value, code: form.elements.namedItem("code").value } };
    default:
      return { response: {} };
  }
}

/** Whether a saved response is a blank (skipped) answer. */
export function isBlank(response) {
  if (!response) return true;
  if (Array.isArray(response.selected)) return response.selected.length === 0;
  if ("value" in response) return response.value === null || response.value === undefined;
  if ("code" in response) return !String(response.code).trim();
  if ("text" in response) return !String(response.text).trim();
  return true;
}
