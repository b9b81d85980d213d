// Before a proctored exam: consent, then a system check judged by the server (what it really
// receives: frames, sound, a face, enough light), then Start exam. The checklist refreshes every
// second; the summary line under it is the live region, and it only changes when the verdict
// does, so a screen reader is told about progress, not about every poll. Once every check
// passed, the candidate looks at the centre of the screen for 3 s while the server measures
// their neutral gaze (optional: Start works without it, and while it runs).

import { api } from "/static/accounts/api.js";
import { clearErrors, fieldError, setStatus } from "/static/accounts/ui.js";
import { publish } from "./publish.js";

const root = document.getElementById("precheck");
const examId = root.dataset.exam;
const version = root.dataset.consentVersion;
const status = document.getElementById("precheck-status");
const consentStep = document.getElementById("consent-step");
const checkStep = document.getElementById("check-step");
const consentForm = document.getElementById("consent-form");
const summary = document.getElementById("check-summary");
const startButton = document.getElementById("start-exam");
const startStatus = document.getElementById("start-status");
const video = document.getElementById("self-view");
const videoNote = document.getElementById("self-view-note");
const calibrateBox = document.getElementById("calibrate");
const calibrateCount = document.getElementById("calibrate-count");
const calibrateStatus = document.getElementById("calibrate-status");
const calibrateButton = document.getElementById("calibrate-again");

const CHECK_URL = `/api/v1/exams/${encodeURIComponent(examId)}/rtc/check`;
const NAMES = { camera: "Camera", microphone: "Microphone", connection: "Connection", face: "Face visible", light: "Light" };
const POLL_MS = 1000;
const CALIBRATE_S = 3; // the server samples the gaze this long (plugins/proctoring/calibration.py)

let session = null;
let ready = false;
let polling = null;
let starting = false;
let calibrating = false;

function showStep(step) {
  consentStep.hidden = step !== 1;
  checkStep.hidden = step !== 2;
  for (const n of [1, 2]) {
    const label = document.getElementById(`step-${n}-label`);
    if (n === step) label.setAttribute("aria-current", "step");
    else label.removeAttribute("aria-current");
    label.dataset.done = String(n < step);
  }
  root.dataset.step = String(step);
}

function setSummary(text) {
  if (summary.textContent !== text) summary.textContent = text;
}

/** One checklist line: icon, name, verdict in words and what to do; never colour alone. */
function renderCheck(check) {
  const item = root.querySelector(`[data-check="${check.name}"]`);
  if (!item) return;
  item.dataset.ok = check.ok ? "true" : "false";
  item.querySelector(".checklist__icon").textContent = check.ok ? "✓" : "!";
  item.querySelector(".checklist__verdict").textContent = check.ok ? "OK" : "Needs attention";
  item.querySelector(".checklist__message").textContent = check.message;
}

function showResult(result) {
  result.checks.forEach(renderCheck);
  root.dataset.ready = String(result.ready);
  if (result.ready && !ready) {
    ready = true; // once everything passed, a flicker later does not take Start away
    startButton.setAttribute("aria-disabled", "false");
    setStatus(startStatus, "");
    calibrate();
  }
  if (ready) {
    setSummary("All checks passed. You can start the exam.");
    return;
  }
  const failing = result.checks.filter((check) => !check.ok).map((check) => NAMES[check.name]);
  const passed = result.checks.length - failing.length;
  setSummary(`${passed} of ${result.checks.length} checks passed. Still checking: ${failing.join(", ")}.`);
}

/** Measure the candidate's neutral gaze: a 3 s countdown while the server samples it. */
async function calibrate() {
  if (calibrating || starting || !calibrateBox) return;
  calibrating = true;
  calibrateBox.hidden = false;
  calibrateButton.hidden = true;
  root.dataset.calibration = "running";
  setStatus(calibrateStatus, "Look at the centre of the screen and keep still…", "progress");
  let left = CALIBRATE_S;
  calibrateCount.textContent = String(left);
  const timer = setInterval(() => {
    left -= 1;
    calibrateCount.textContent = left > 0 ? String(left) : "";
  }, 1000);
  try {
    await api(`${CHECK_URL}/calibrate`, { method: "POST" });
    root.dataset.calibration = "done";
    calibrateButton.textContent = "Calibrate again";
    setStatus(calibrateStatus, "Done. Proctoring now knows where you look when you look at the screen.", "success");
  } catch (error) {
    if (error.code === "gaze_unavailable") {
      root.dataset.calibration = "skipped"; // nothing to calibrate on this server
      calibrateBox.hidden = true;
      return;
    }
    root.dataset.calibration = "failed";
    calibrateButton.textContent = "Try again";
    setStatus(calibrateStatus, `${error.message} You can also start the exam without this step.`, "warning");
  } finally {
    clearInterval(timer);
    calibrateCount.textContent = "";
    calibrating = false;
    calibrateButton.hidden = root.dataset.calibration === "skipped";
  }
}

async function poll() {
  polling = null;
  if (starting) return;
  let wait = POLL_MS;
  try {
    showResult(await api(CHECK_URL));
  } catch (error) {
    // Many candidates behind one address share its rate limit: wait as asked, quietly.
    if (error.status === 429) wait = Math.max(POLL_MS, (error.retryAfter ?? 2) * 1000);
    else setSummary(`The check could not be read. ${error.message}`);
  }
  if (!starting) polling = setTimeout(poll, wait);
}

function onState(state, error) {
  checkStep.dataset.rtc = state;
  if (state === "reconnecting") setSummary("The connection dropped. Reconnecting…");
  if (state === "failed" && error) setStatus(startStatus, error.message, "danger");
}

async function startCheck() {
  showStep(2);
  document.getElementById("check-title").focus();
  try {
    session = await publish({ offer: CHECK_URL, close: CHECK_URL }, { onState, telemetry: false, reconnect: true });
  } catch (error) {
    if (error?.name === "NotAllowedError" || error?.name === "NotFoundError" || error?.name === "NotReadableError") {
      videoNote.textContent = "No camera picture.";
      setSummary("This page cannot use your camera or microphone. Allow both in your browser's " +
        "site settings (the camera icon in the address bar), close other apps that use them, " +
        "then reload this page.");
    } else if (error?.code === "consent_required") {
      showStep(1);
      setStatus(status, "Agree to proctoring first.", "warning");
    } else {
      setSummary(error?.message ?? String(error));
    }
    return;
  }
  video.srcObject = session.stream;
  videoNote.hidden = true;
  window.addEventListener("pagehide", () => session?.stop());
  poll();
}

async function start() {
  if (!ready) {
    setStatus(startStatus, "Wait until every check has passed. The list above says what to fix.", "warning");
    return;
  }
  if (starting) return;
  starting = true;
  clearTimeout(polling);
  startButton.setAttribute("aria-disabled", "true");
  setStatus(startStatus, "Starting the exam…", "progress");
  try {
    const attempt = await api(`/api/v1/my/exams/${encodeURIComponent(examId)}/attempts`, { method: "POST" });
    await session?.close();
    session = null;
    location.assign(`/exams/attempt/${attempt.id}`);
  } catch (error) {
    starting = false;
    startButton.setAttribute("aria-disabled", "false");
    if (error.code === "consent_required") {
      await session?.close();
      session = null;
      ready = false;
      showStep(1);
      setStatus(status, "The consent text has changed. Read it and agree again.", "warning");
      return;
    }
    setStatus(startStatus, error.message, "danger");
    poll();
  }
}

consentForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(consentForm);
  if (!consentForm.elements.namedItem("consent").checked) {
    fieldError(consentForm, "consent", "Tick the box to agree, or choose Not now.");
    document.getElementById("consent-check").focus();
    return;
  }
  const button = consentForm.querySelector("button[type=submit]");
  button.disabled = true;
  setStatus(status, "Saving your consent…", "progress");
  try {
    await api(`/api/v1/exams/${encodeURIComponent(examId)}/proctoring/consent`, {
      method: "POST",
      json: { text_version: version },
    });
    setStatus(status, "Consent saved.", "success");
    await startCheck();
  } catch (error) {
    const text = error.code === "stale_consent_text"
      ? "The consent text has changed since this page was loaded. Reload the page and read it again."
      : error.message;
    setStatus(status, text, "danger");
  } finally {
    button.disabled = false;
  }
});

startButton.addEventListener("click", start);
calibrateButton?.addEventListener("click", calibrate);

async function main() {
  try {
    const summaryInfo = await api(`/api/v1/exams/${encodeURIComponent(examId)}/proctoring`);
    if (summaryInfo.consented) {
      setStatus(status, "You have agreed to proctoring for this exam.", "info");
      await startCheck();
    } else {
      setStatus(status, "");
      showStep(1);
    }
  } catch (error) {
    setStatus(status, error.message, "danger");
  }
}

main();
