// Ask for a password-reset link. The server answers the same whether or not the account
// exists (so this page cannot be used to find out who has an account); the message says so.

import { api } from "./api.js";
import { clearErrors, fieldError, focusFirstError, setBusy, setStatus, showApiError } from "./ui.js";

const form = document.getElementById("forgot-form");
const status = document.getElementById("forgot-status");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const email = form.elements.email.value.trim();
  if (!email.includes("@")) {
    fieldError(form, "email", "Enter the email address of your account.");
    focusFirstError(form);
    return;
  }
  setBusy(form, true);
  setStatus(status, "Sending…", "progress");
  try {
    await api("/api/v1/auth/password/forgot", { method: "POST", json: { email }, signIn: "throw" });
    setStatus(
      status,
      `If ${email} has an account here, a reset link is on its way. Open the link in that email ` +
        "within the next few minutes. Nothing arrived? Check your spam folder, or ask your administrator.",
      "success",
    );
  } catch (error) {
    showApiError(form, status, error);
  } finally {
    setBusy(form, false);
  }
});
