// A candidate's reference face: consent first, then a photo from the camera (getUserMedia →
// <video> → <canvas> → JPEG), the stored photo with its retention date, and withdrawal. Only a
// still JPEG leaves the browser; no model runs here, so old laptops cope.

import { api } from "./api.js";
import { clearErrors, fieldError, formatDate, formatDateTime, setBusy, setStatus } from "./ui.js";

const BASE = "/api/v1/me/enrollment";
const MIN_SIDE = 160; // the API refuses smaller photos
const $ = (id) => document.getElementById(id);

const section = $("enrollment");
const status = $("enrollment-status");
const video = $("camera-video");
const canvas = $("camera-canvas");
let stream = null;
let photoUrl = null;

/** What the camera failure means and what to do about it. */
function cameraAdvice(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "The browser blocked the camera. Allow the camera for this site (the camera icon " +
        "in the address bar), then press Start camera again.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No camera was found. Connect a camera, then press Start camera again.";
    case "NotReadableError":
      return "The camera is busy in another app (a video call?). Close that app, then press " +
        "Start camera again.";
    default:
      return "The camera did not start. Reload the page and press Start camera again; if it " +
        "still fails, try another browser.";
  }
}

/** Show only the named buttons of the camera step. */
function cameraButtons(...visible) {
  for (const id of ["camera-start", "camera-take", "camera-save", "camera-retake"]) {
    $(id).hidden = !visible.includes(id);
  }
}

function stopCamera() {
  for (const track of stream?.getTracks() ?? []) track.stop();
  stream = null;
  video.srcObject = null;
  video.hidden = true;
  canvas.hidden = true;
  $("camera-placeholder").hidden = false;
  cameraButtons("camera-start");
}

async function startCamera() {
  setStatus(status, "");
  if (!navigator.mediaDevices?.getUserMedia) {
    setStatus(status, "This page cannot use the camera here. Open it over https in a current " +
      "browser (Chrome, Edge, Firefox or Safari).", "danger");
    return;
  }
  setStatus(status, "Starting the camera…", "progress");
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" },
      audio: false,
    });
  } catch (error) {
    setStatus(status, cameraAdvice(error), "danger");
    return;
  }
  video.srcObject = stream;
  video.hidden = false;
  canvas.hidden = true;
  $("camera-placeholder").hidden = true;
  await video.play().catch(() => {});
  cameraButtons("camera-take");
  setStatus(status, "Camera on. Look at the camera, then press Take photo.", "info");
  $("camera-take").focus();
}

function takePhoto() {
  const width = video.videoWidth;
  const height = video.videoHeight;
  if (width < MIN_SIDE || height < MIN_SIDE) {
    setStatus(status, "The camera picture is not ready yet. Wait a second, then press Take photo again.", "warning");
    return;
  }
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").drawImage(video, 0, 0, width, height);
  canvas.hidden = false;
  video.hidden = true;
  cameraButtons("camera-save", "camera-retake");
  setStatus(status, "Check the photo: your whole face, sharp and well lit. Save it, or retake it.", "info");
  $("camera-save").focus();
}

/** The canvas as a JPEG no larger than the server accepts (lower quality if needed). */
async function photoBlob() {
  const limit = Number(section.dataset.maxBytes) || 2 * 1024 * 1024;
  for (const quality of [0.9, 0.75, 0.6]) {
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
    if (blob && blob.size <= limit) return blob;
  }
  return null;
}

async function savePhoto() {
  const blob = await photoBlob();
  if (!blob) {
    setStatus(status, "The photo is too large to send. Press Retake and try again.", "danger");
    return;
  }
  setStatus(status, "Saving your photo…", "progress");
  for (const id of ["camera-save", "camera-retake"]) $(id).disabled = true;
  try {
    const enrollment = await api(`${BASE}/photo`, { method: "PUT", body: blob, contentType: "image/jpeg" });
    stopCamera();
    await render(enrollment);
    setStatus(status, "Photo saved. It will be used to check your identity in proctored exams.", "success");
  } catch (error) {
    const consent = error.code === "consent_required";
    setStatus(status, consent ? "Give your consent first, then take the photo." : error.message, "danger");
  } finally {
    for (const id of ["camera-save", "camera-retake"]) $(id).disabled = false;
  }
}

/** Load the stored photo through the API (cookies, refresh) into a blob: URL. */
async function showStoredPhoto() {
  const blob = await api(`${BASE}/photo`, { as: "blob" });
  if (photoUrl) URL.revokeObjectURL(photoUrl);
  photoUrl = URL.createObjectURL(blob);
  $("stored-photo-img").src = photoUrl;
}

/** Show the step that fits the enrollment status. */
async function render(enrollment) {
  const state = enrollment?.status ?? "none";
  const consented = state === "consented" || state === "active";
  const hasPhoto = consented && Boolean(enrollment.has_photo);
  $("consent-form").hidden = consented;
  $("consent-text").open = !consented; // once agreed, the text stays one click away
  $("consent-check").checked = false;
  $("withdraw").hidden = !consented;
  $("withdraw-confirm").hidden = true;
  $("withdraw-ask").setAttribute("aria-expanded", "false");
  $("stored-photo").hidden = !hasPhoto;
  $("camera").hidden = !consented || hasPhoto;
  section.classList.toggle("is-consented", consented);
  const until = formatDate(enrollment?.retention_until);
  const given = formatDateTime(enrollment?.consent_given_at);
  const agreed = enrollment?.consent_text_version ? ` to text version ${enrollment.consent_text_version}` : "";
  const line = $("enrollment-state");
  if (!consented) {
    line.textContent = state === "withdrawn"
      ? "You withdrew your consent; no photo is kept. To use identity checks again, read the text and give consent."
      : "No reference photo yet. Read the text below; if you agree, give your consent, then take the photo.";
  } else if (!hasPhoto) {
    line.textContent = `Consent given${agreed}${given ? ` on ${given}` : ""}. Next: take your reference photo below.`;
  } else {
    line.textContent = `Your reference photo is stored${until ? ` until ${until}` : ""}.`;
  }
  $("stored-photo-note").textContent = until
    ? `Kept until ${until}, unless you withdraw your consent earlier.`
    : "";
  if (hasPhoto) await showStoredPhoto().catch(() => {
    setStatus(status, "Your photo is stored but could not be shown. Reload the page to try again.", "warning");
  });
}

async function load() {
  try {
    await render(await api(BASE));
  } catch (error) {
    $("enrollment-state").textContent = "";
    setStatus(status, error.message, "danger");
  }
}

if (section) {
  const consentForm = $("consent-form");
  consentForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(consentForm);
    if (!$("consent-check").checked) {
      fieldError(consentForm, "consent", "Tick the box to give consent. If you do not agree, ask your exam organiser how else to check your identity.");
      $("consent-check").focus();
      return;
    }
    setBusy(consentForm, true);
    setStatus(status, "Recording your consent…", "progress");
    try {
      const body = { consent: true, text_version: section.dataset.consentVersion };
      await render(await api(`${BASE}/consent`, { method: "POST", json: body }));
      setStatus(status, "Consent recorded. Next: press Start camera to take your reference photo.", "success");
      $("camera-start").focus();
    } catch (error) {
      const current = error.details?.current_version;
      if (error.code === "consent_text_outdated" && current) {
        // The operator changed the text while this page was open: show the new one.
        section.dataset.consentVersion = current;
        setStatus(status, "The consent text has changed since this page opened. Reload the page, read the new text, then give consent again.", "warning");
      } else {
        setStatus(status, error.message, "danger");
      }
    } finally {
      setBusy(consentForm, false);
    }
  });
  $("camera-start").addEventListener("click", startCamera);
  $("camera-take").addEventListener("click", takePhoto);
  $("camera-save").addEventListener("click", savePhoto);
  $("camera-retake").addEventListener("click", () => {
    canvas.hidden = true;
    video.hidden = false;
    cameraButtons("camera-take");
    $("camera-take").focus();
  });
  $("photo-replace").addEventListener("click", () => {
    $("camera").hidden = false;
    startCamera();
  });
  $("withdraw-ask").addEventListener("click", () => {
    $("withdraw-confirm").hidden = false;
    $("withdraw-ask").setAttribute("aria-expanded", "true");
    $("withdraw-no").focus();
  });
  $("withdraw-no").addEventListener("click", () => {
    $("withdraw-confirm").hidden = true;
    $("withdraw-ask").setAttribute("aria-expanded", "false");
    $("withdraw-ask").focus();
  });
  $("withdraw-yes").addEventListener("click", async () => {
    setStatus(status, "Withdrawing your consent…", "progress");
    $("withdraw-yes").disabled = true;
    try {
      await api(BASE, { method: "DELETE" });
      stopCamera();
      await render({ status: "withdrawn" });
      setStatus(status, "Consent withdrawn. Your photo and anything computed from it were deleted.", "success");
      $("consent-check").focus();
    } catch (error) {
      setStatus(status, error.message, "danger");
    } finally {
      $("withdraw-yes").disabled = false;
    }
  });
  document.addEventListener("inv:session-ended", stopCamera);
  load();
}
