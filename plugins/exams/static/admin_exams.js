// Examiner: every exam with its status and window, a short create form, and Publish.

import { api } from "../accounts/api.js";
import { formatDateTime, setStatus } from "../accounts/ui.js";

const root = document.getElementById("admin-root");
const status = document.getElementById("page-status");

function el(tag, className = "", text = "") {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

function createForm() {
  const form = el("form", "card");
  form.noValidate = true;
  form.append(el("h2", "card__title", "New exam"));
  for (const [name, label, type] of [["title", "Title", "text"], ["duration_minutes", "Duration (minutes)", "number"]]) {
    const box = el("div", "field");
    const input = el("input", "input");
    Object.assign(input, { id: `new-${name}`, name, type, required: true });
    const text = el("label", "", label);
    text.htmlFor = input.id;
    box.append(text, input);
    form.append(box);
  }
  const button = el("button", "btn btn--primary", "Create draft");
  button.type = "submit";
  form.append(button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("/api/v1/exams", { method: "POST", json: {
        title: form.elements.title.value, duration_minutes: Number(form.elements.duration_minutes.value),
      } });
      form.reset();
      setStatus(status, "Draft created. Add its sections, then publish it.", "success");
      await load();
    } catch (error) {
      setStatus(status, error.message, "danger");
    }
  });
  return form;
}

function table(exams) {
  const wrap = el("div", "table-wrap");
  const t = el("table", "table");
  const head = el("tr");
  for (const h of ["Exam", "Status", "Opens", "Closes", ""]) head.append(Object.assign(el("th", "", h), { scope: "col" }));
  t.append(Object.assign(el("thead"), {}), el("tbody"));
  t.tHead.append(head);
  for (const exam of exams) {
    const row = el("tr");
    const name = el("a", "", exam.title);
    name.href = `/admin/exams/${exam.id}`;
    const cell = el("td");
    cell.append(name);
    row.append(cell, el("td", "", exam.status), el("td", "", formatDateTime(exam.opens_at) || "—"),
      el("td", "", formatDateTime(exam.closes_at) || "—"));
    const actions = el("td");
    if (exam.status === "draft") {
      const publish = el("button", "btn btn--secondary", "Publish");
      publish.type = "button";
      publish.addEventListener("click", async () => {
        try {
          await api(`/api/v1/exams/${exam.id}/publish`, { method: "POST" });
          setStatus(status, `${exam.title} is published.`, "success");
          await load();
        } catch (error) {
          const problems = error.details?.problems;
          setStatus(status, Array.isArray(problems) ? `${error.message} ${problems.join(" ")}` : error.message, "danger");
        }
      });
      actions.append(publish);
    }
    row.append(actions);
    t.tBodies[0].append(row);
  }
  wrap.append(t);
  return wrap;
}

async function load() {
  try {
    const data = await api("/api/v1/exams");
    const exams = Array.isArray(data) ? data : data.items ?? [];
    root.replaceChildren(table(exams), createForm());
  } catch (error) {
    setStatus(status, error.message, "danger");
  }
}

load();
