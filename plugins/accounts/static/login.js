// The sign-in form: posts the credentials, explains failures, counts down throttling waits, and
// sends the person on to where they were going (or to the page for their role).

import { api, csrfToken, refreshSession } from "./api.js";
import {
  clearErrors, fieldError, focusFirstError, setBusy, setStatus, showApiError, wireShowPassword,
} from "./ui.js";

const form = document.getElementById("login-form");
const status = document.getElementById("login-status");
const submit = form.querySelector('button[type="submit"]');
const submitLabel = submit.textContent;

/**
 * The return path when it is a path on this site; the server already checked it, this is the
 * second lock on the door in case the attribute was ever filled from somewhere else.
 * @param {string} value
 */
function safeNext(value) {
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return "";
  return /[\u0000-\u001f\u007f\\]/.test(value) ? "" : value;
}

/** Where to go after signing in: the return path, else the page for the person's role. */
function destination(user) {
  const next = safeNext(form.dataset.next ?? "");
  if (next) return next;
  return user?.role === "admin" ? "/admin/users" : "/profile";
}

/** Keep the button off for `seconds`, showing the wait on it, then say it is usable again. */
function waitThenRetry(seconds) {
  let left = Math.max(1, Math.ceil(seconds));
  setStatus(
    status,
    `Too many sign-in attempts. Wait ${left} s, then try again. The button comes back on by itself.`,
    "warning",
  );
  submit.disabled = true;
  submit.textContent = `Wait ${left} s`;
  const timer = setInterval(() => {
    left -= 1;
    if (left > 0) {
      submit.textContent = `Wait ${left} s`;
      return;
    }
    clearInterval(timer);
    submit.disabled = false;
    submit.textContent = submitLabel;
    setStatus(status, "You can try again now.", "info");
  }, 1000);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;
  if (!email.includes("@")) fieldError(form, "email", "Enter the email address of your account.");
  if (!password) fieldError(form, "password", "Enter your password.");
  if (form.querySelector('[aria-invalid="true"]')) {
    setStatus(status, "Fill in both fields, then press Sign in.", "danger");
    focusFirstError(form);
    return;
  }
  setBusy(form, true);
  setStatus(status, "Signing in…", "progress");
  let throttled = false;
  try {
    const data = await api("/api/v1/auth/login", {
      method: "POST", json: { email, password }, signIn: "throw",
    });
    setStatus(status, "Signed in. Opening your page…", "success");
    location.assign(destination(data?.user));
    return;
  } catch (error) {
    if (error.status === 401) {
      setStatus(
        status,
        "That email and password do not match an active account. Check both and try again, " +
          "or choose “Forgot your password?” below.",
        "danger",
      );
      form.elements.password.select();
      form.elements.password.focus();
    } else if (error.status === 429) {
      throttled = true;
      setBusy(form, false);
      waitThenRetry(error.retryAfter ?? 30);
    } else {
      showApiError(form, status, error);
    }
  }
  if (!throttled) setBusy(form, false);
});

wireShowPassword(form);

// The access cookie lives minutes, the refresh cookie hours: someone sent here only because
// the access token expired is still signed in, so try the refresh before asking for a password.
// Only worth a request when a session cookie is there (the CSRF cookie lives as long as it).
if (csrfToken() && !new URLSearchParams(location.search).has("signed_out")) {
  refreshSession().then(async (ok) => {
    if (!ok) return;
    const me = await api("/api/v1/auth/me", { signIn: "throw" }).catch(() => null);
    if (!me) return;
    setStatus(status, "You are still signed in. Taking you back…", "info");
    location.replace(destination(me.user));
  });
}
