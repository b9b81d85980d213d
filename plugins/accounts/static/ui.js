// Form helpers shared by the accounts pages: field errors tied to their inputs, one live status
// region per form, and busy buttons. Kept in one place so every form speaks the same way to
// screen readers (aria-invalid, aria-describedby, aria-live) without each page re-doing it.

/**
 * Show `message` under the control named `name` in `form` and mark the control invalid.
 * @param {HTMLFormElement} form
 * @param {string} name
 * @param {string} message
 * @returns {boolean} false when the form has no such control (the caller shows it elsewhere)
 */
export function fieldError(form, name, message) {
  const control = form.elements.namedItem(name);
  if (!(control instanceof HTMLElement)) return false;
  const slot = document.getElementById(`${control.id}-error`);
  if (!slot) return false;
  control.setAttribute("aria-invalid", "true");
  slot.textContent = message;
  slot.hidden = false;
  return true;
}

/** Remove every field error and the status message of `form`. */
export function clearErrors(form) {
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  for (const slot of form.querySelectorAll(".field-error")) {
    slot.textContent = "";
    slot.hidden = true;
  }
}

/** Put the keyboard on the first invalid control, so the person lands where the fix is. */
export function focusFirstError(form) {
  form.querySelector('[aria-invalid="true"]')?.focus();
}

/**
 * Write a message into a live status region.
 * @param {HTMLElement|null} region an element with role="status"
 * @param {string} message empty to clear
 * @param {"info"|"success"|"warning"|"danger"|"progress"} [kind]
 */
export function setStatus(region, message, kind = "info") {
  if (!region) return;
  region.replaceChildren();
  if (!message) return;
  const box = document.createElement("p");
  box.className = kind === "progress" ? "form-status__progress" : `alert alert--${kind}`;
  box.textContent = message;
  region.append(box);
}

/**
 * Show an API error on a form: validation details go to their fields, the rest to `region`.
 * @param {HTMLFormElement} form
 * @param {HTMLElement|null} region
 * @param {import("./api.js").ApiError} error
 */
export function showApiError(form, region, error) {
  let placed = 0;
  if (error.code === "validation_error" && Array.isArray(error.details)) {
    for (const item of error.details) {
      const name = Array.isArray(item.loc) ? String(item.loc[item.loc.length - 1]) : "";
      if (name && fieldError(form, name, sentence(item.msg))) placed += 1;
    }
  }
  if (placed) {
    setStatus(region, "Some fields need attention. Correct them, then try again.", "danger");
    focusFirstError(form);
  } else {
    setStatus(region, error.message, "danger");
  }
}

/** A validator message as a sentence: "String should have …" → "String should have ….". */
export function sentence(text) {
  const value = String(text ?? "").trim().replace(/^Value error, /, "");
  if (!value) return "This value is not accepted.";
  return `${value.charAt(0).toUpperCase()}${value.slice(1)}${/[.!?]$/.test(value) ? "" : "."}`;
}

/**
 * Disable a form's submit buttons while a request runs, and say so on the form.
 * @param {HTMLFormElement} form
 * @param {boolean} busy
 */
export function setBusy(form, busy) {
  form.setAttribute("aria-busy", String(busy));
  // Once the session has ended (session.js) nothing may come back on.
  if (!busy && document.body.classList.contains("is-signed-out")) return;
  for (const button of form.querySelectorAll("button")) {
    if (busy) {
      button.dataset.wasDisabled = String(button.disabled);
      button.disabled = true;
    } else if (button.dataset.wasDisabled !== undefined) {
      button.disabled = button.dataset.wasDisabled === "true";
      delete button.dataset.wasDisabled;
    }
  }
}

/** "Show password" checkboxes: `data-show-password="id1 id2"` toggles those inputs. */
export function wireShowPassword(root = document) {
  for (const box of root.querySelectorAll("[data-show-password]")) {
    box.addEventListener("change", () => {
      for (const id of box.dataset.showPassword.split(/\s+/)) {
        const input = document.getElementById(id);
        if (input) input.type = box.checked ? "text" : "password";
      }
    });
  }
}

/** Check the length rules the API enforces, so people learn them before submitting. */
export function checkNewPassword(form, name, confirmName) {
  const value = form.elements.namedItem(name)?.value ?? "";
  const confirm = form.elements.namedItem(confirmName)?.value ?? "";
  const tooShort = value.length < 8;
  if (tooShort || value.length > 128) {
    fieldError(form, name, tooShort ? "Use at least 8 characters." : "Use at most 128 characters.");
    return false;
  }
  if (value !== confirm) {
    fieldError(form, confirmName, "The two passwords differ. Type the same password twice.");
    return false;
  }
  return true;
}

/**
 * Put a password-policy refusal ("this password is too common…") under the new-password field.
 * @returns {boolean} whether `error` was such a refusal
 */
export function passwordRefused(form, region, error, name = "new_password") {
  if (error.code !== "invalid_input" || !/password/i.test(error.serverMessage)) return false;
  fieldError(form, name, sentence(error.serverMessage));
  setStatus(region, "Choose a different password, then try again.", "danger");
  focusFirstError(form);
  return true;
}

/** A date and time in the reader's own time zone ("3 May 2026, 09:00"). */
export function formatDateTime(value) {
  const when = new Date(value);
  if (!value || Number.isNaN(when.getTime())) return "";
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(when);
}

/** A date in the reader's own time zone ("3 May 2026"). */
export function formatDate(value) {
  const when = new Date(value);
  if (!value || Number.isNaN(when.getTime())) return "";
  return new Intl.DateTimeFormat(undefined, { dateStyle: "long" }).format(when);
}
