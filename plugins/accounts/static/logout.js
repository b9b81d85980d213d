// The /logout page: one button that signs out with a POST (and the CSRF header).

import { signOut } from "./session.js";
import { setBusy, setStatus } from "./ui.js";

const form = document.getElementById("logout-form");
const status = document.getElementById("logout-status");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  setBusy(form, true);
  setStatus(status, "Signing out…", "progress");
  try {
    await signOut();
  } catch (error) {
    setStatus(status, error.message, "danger");
    setBusy(form, false);
  }
});
