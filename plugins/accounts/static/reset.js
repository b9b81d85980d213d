// Complete a password reset with the token from the emailed link, then send the person to sign
// in. The token leaves the address bar at once so it is not kept in history or screenshots.

import { api } from "./api.js";
import {
  checkNewPassword, clearErrors, focusFirstError, passwordRefused, setBusy, setStatus,
  showApiError, wireShowPassword,
} from "./ui.js";

const form = document.getElementById("reset-form");

/** Replace the form with the outcome and move focus to the way on. */
function showDone() {
  const done = document.createElement("div");
  done.className = "alert alert--success";
  done.setAttribute("role", "status");
  const text = document.createElement("p");
  const link = document.createElement("a");
  link.href = "/login";
  link.textContent = "Sign in with it now";
  text.append("Your password is changed and every other session was signed out. ", link, ".");
  done.append(text);
  form.replaceWith(done);
  link.focus();
}

if (form) {
  const status = document.getElementById("reset-status");
  const token = form.dataset.token;
  history.replaceState(null, "", location.pathname);
  wireShowPassword(form);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!checkNewPassword(form, "new_password", "confirm")) {
      setStatus(status, "Correct the password, then save it.", "danger");
      focusFirstError(form);
      return;
    }
    setBusy(form, true);
    setStatus(status, "Saving your new password…", "progress");
    try {
      await api("/api/v1/auth/password/reset", {
        method: "POST",
        json: { token, new_password: form.elements.new_password.value },
        signIn: "throw",
      });
      showDone();
      return;
    } catch (error) {
      if (passwordRefused(form, status, error)) {
        // shown under the field
      } else if (error.code === "invalid_reset_token") {
        setStatus(
          status,
          "This reset link does not work any more: it was used already or it expired. " +
            "Ask for a new link on the “Forgot your password?” page.",
          "danger",
        );
      } else {
        showApiError(form, status, error);
      }
    }
    setBusy(form, false);
  });
}
