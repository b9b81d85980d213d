// The profile page: the person's name and password (and, for candidates, the reference face in
// enrollment.js). A password change ends every session, this one included, and answers with a
// fresh one; session.js is told beforehand so it does not show "you were signed out".

import { api } from "./api.js";
import "./enrollment.js";
import { expectSessionChange } from "./session.js";
import {
  checkNewPassword, clearErrors, fieldError, focusFirstError, passwordRefused, setBusy, setStatus,
  showApiError, wireShowPassword,
} from "./ui.js";

const ROLE_NAMES = { admin: "Administrator", examiner: "Examiner", proctor: "Proctor", candidate: "Candidate" };

const summary = document.getElementById("profile-summary");
const nameForm = document.getElementById("name-form");
const nameStatus = document.getElementById("name-status");
const passwordForm = document.getElementById("password-form");
const passwordStatus = document.getElementById("password-status");

/** Fill the page from `GET /api/v1/auth/me`. */
async function load() {
  try {
    const me = await api("/api/v1/auth/me");
    const user = me.user;
    summary.textContent = `Signed in as ${user.email} · ${ROLE_NAMES[user.role] ?? user.role}`;
    nameForm.elements.display_name.value = user.display_name;
    passwordForm.elements.username.value = user.email;
  } catch (error) {
    summary.textContent = "";
    setStatus(document.getElementById("profile-load-status"), error.message, "danger");
  }
}

nameForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(nameForm);
  const displayName = nameForm.elements.display_name.value.trim();
  if (!displayName) {
    fieldError(nameForm, "display_name", "Enter the name people should see.");
    focusFirstError(nameForm);
    return;
  }
  setBusy(nameForm, true);
  setStatus(nameStatus, "Saving…", "progress");
  try {
    const me = await api("/api/v1/auth/me", { method: "PATCH", json: { display_name: displayName } });
    nameForm.elements.display_name.value = me?.user?.display_name ?? displayName;
    setStatus(nameStatus, "Name saved.", "success");
  } catch (error) {
    showApiError(nameForm, nameStatus, error);
  } finally {
    setBusy(nameForm, false);
  }
});

passwordForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(passwordForm);
  if (!passwordForm.elements.current_password.value) {
    fieldError(passwordForm, "current_password", "Enter your current password.");
  }
  const valid = checkNewPassword(passwordForm, "new_password", "confirm");
  if (!valid || passwordForm.querySelector('[aria-invalid="true"]')) {
    setStatus(passwordStatus, "Some fields need attention. Correct them, then try again.", "danger");
    focusFirstError(passwordForm);
    return;
  }
  setBusy(passwordForm, true);
  setStatus(passwordStatus, "Changing your password…", "progress");
  const done = expectSessionChange();
  try {
    await api("/api/v1/auth/password", {
      method: "POST",
      json: {
        current_password: passwordForm.elements.current_password.value,
        new_password: passwordForm.elements.new_password.value,
      },
    });
    done(true);
    passwordForm.reset();
    setStatus(
      passwordStatus,
      "Password changed. Any other device or browser that was signed in is now signed out.",
      "success",
    );
  } catch (error) {
    done(false);
    if (error.code === "wrong_password") {
      fieldError(passwordForm, "current_password", "That is not your current password. Type it again.");
      setStatus(passwordStatus, "Your password was not changed.", "danger");
      focusFirstError(passwordForm);
    } else if (!passwordRefused(passwordForm, passwordStatus, error)) {
      showApiError(passwordForm, passwordStatus, error);
    }
  } finally {
    setBusy(passwordForm, false);
  }
});

wireShowPassword(document);
load();
