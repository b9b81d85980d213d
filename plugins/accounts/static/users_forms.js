// The two forms under the users table: add one user, and import many from CSV. The import is
// all or nothing on the server, so the page encourages a dry run first and lists every bad line
// with its number, which is what a person needs to fix the file.

import { api } from "./api.js";
import {
  clearErrors, fieldError, focusFirstError, passwordRefused, setBusy, setStatus, showApiError,
} from "./ui.js";

const MAX_CSV_BYTES = 1024 * 1024;
const ROLE_NAMES = { admin: "Admin", examiner: "Examiner", proctor: "Proctor", candidate: "Candidate" };
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** @param {HTMLFormElement} form @param {() => Promise<void>} changed */
function wireCreate(form, changed) {
  const status = document.getElementById("create-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const email = form.elements.email.value.trim();
    const displayName = form.elements.display_name.value.trim();
    const password = form.elements.password.value;
    if (!email.includes("@")) fieldError(form, "email", "Enter the person's email address.");
    if (!displayName) fieldError(form, "display_name", "Enter the person's name.");
    if (password && password.length < 8) {
      fieldError(form, "password", "Use at least 8 characters, or leave it empty to send an invitation.");
    }
    if (form.querySelector('[aria-invalid="true"]')) {
      setStatus(status, "Some fields need attention. Correct them, then press Add user.", "danger");
      focusFirstError(form);
      return;
    }
    const role = form.elements.role.value;
    setBusy(form, true);
    setStatus(status, `Adding ${displayName}…`, "progress");
    try {
      const json = { email, display_name: displayName, role, ...(password ? { password } : {}) };
      const user = await api("/api/v1/users", { method: "POST", json });
      const invite = password ? "" : " They were emailed a link to choose their password.";
      setStatus(status, `Added ${user?.display_name ?? displayName} as ${ROLE_NAMES[role] ?? role}.${invite}`, "success");
      form.reset();
      form.elements.role.value = "candidate";
      await changed();
    } catch (error) {
      if (error.code === "email_taken") {
        fieldError(form, "email", "A user with this email already exists. Search for it in the table.");
        setStatus(status, "The user was not added.", "danger");
        focusFirstError(form);
      } else if (!passwordRefused(form, status, error, "password")) {
        showApiError(form, status, error);
      }
    } finally {
      setBusy(form, false);
    }
  });
}

/** The CSV text from the chosen file, else from the text box; null when there is none. */
async function csvText(form) {
  const file = form.elements.file.files?.[0];
  if (file) {
    if (file.size > MAX_CSV_BYTES) {
      fieldError(form, "file", "The file is larger than 1 MiB. Split it into smaller files.");
      return null;
    }
    return file.text();
  }
  const text = form.elements.text.value;
  if (!text.trim()) {
    fieldError(form, "file", "Choose a CSV file, or paste the CSV text in the box below.");
    return null;
  }
  if (new Blob([text]).size > MAX_CSV_BYTES) {
    fieldError(form, "file", "The text is larger than 1 MiB. Split it into smaller parts.");
    return null;
  }
  return text;
}

/** List the per-line problems; an empty list hides the box. */
function showLineErrors(list, errors) {
  list.replaceChildren();
  for (const item of errors) {
    const li = document.createElement("li");
    li.textContent = item.line ? `Line ${item.line}: ${item.message}` : String(item.message);
    list.append(li);
  }
  list.hidden = errors.length === 0;
}

/** Line errors from the answer, whether they came in the body or in an error's details. */
function lineErrors(value) {
  const errors = Array.isArray(value?.errors) ? value.errors : value?.details?.errors ?? value?.details;
  return Array.isArray(errors) ? errors.filter((item) => item && "message" in item) : [];
}

/** @param {HTMLFormElement} form @param {() => Promise<void>} changed */
function wireImport(form, changed) {
  const status = document.getElementById("import-status");
  const list = document.getElementById("import-errors");
  form.elements.file.addEventListener("change", () => {
    clearErrors(form);
    showLineErrors(list, []);
    setStatus(status, "");
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    showLineErrors(list, []);
    const dryRun = event.submitter?.dataset.dryRun !== "false";
    const text = await csvText(form);
    if (text === null) {
      setStatus(status, "There is nothing to import yet.", "danger");
      focusFirstError(form);
      return;
    }
    const rows = Math.max(0, text.split(/\r?\n/).filter((line) => line.trim()).length - 1);
    setBusy(form, true);
    setStatus(status, dryRun ? `Checking ${plural(rows, "line")}…` : `Importing ${plural(rows, "user")}…`, "progress");
    try {
      const result = await api("/api/v1/users/import", {
        method: "POST", body: text, contentType: "text/csv", query: { dry_run: dryRun },
      });
      const errors = lineErrors(result);
      showLineErrors(list, errors);
      const invited = result?.invited ? ` (${result.invited} invited by email to choose a password)` : "";
      if (errors.length) {
        setStatus(status, `Found ${plural(errors.length, "problem")}; nothing was imported. Fix the lines listed below, then check the file again.`, "danger");
      } else if (dryRun) {
        setStatus(status, `Every line is valid: ${plural(result?.rows ?? 0, "user")} would be added${invited}. Press Import users to add them.`, "success");
      } else {
        setStatus(status, `Imported ${plural(result?.created ?? 0, "user")}${invited}.`, "success");
        form.reset();
        await changed();
      }
    } catch (error) {
      const errors = lineErrors(error);
      showLineErrors(list, errors);
      if (errors.length) {
        setStatus(status, `Found ${plural(errors.length, "problem")}; nothing was imported. Fix the lines listed below, then check the file again.`, "danger");
      } else {
        showApiError(form, status, error);
      }
    } finally {
      setBusy(form, false);
    }
  });
}

/**
 * Wire both forms.
 * @param {() => Promise<void>} changed reloads the table after users were added
 */
export function wireUserForms(changed) {
  wireCreate(document.getElementById("create-form"), changed);
  wireImport(document.getElementById("import-form"), changed);
}
