// On the exam page: upgrade each coding item the page draws (see `exam:question` in
// exams/attempt.js) to the judge's editor with Run samples.

import { enhanceCodeItem } from "./code_item.js";

const form = document.getElementById("question-form");

function upgrade(detail) {
  if (detail?.question?.type === "coding") enhanceCodeItem(form, detail);
}

if (form) {
  form.addEventListener("exam:question", (event) => upgrade(event.detail));
  if (form.examQuestion) upgrade(form.examQuestion);
}
