// The connection check page: publish, preview the camera and show the connection state.

import { publish } from "./publish.js";

const root = document.getElementById("rtc-check");
const state = document.getElementById("rtc-state");
const show = (text) => {
  state.textContent = text;
  root.dataset.state = text;
};

try {
  const session = await publish(root.dataset.attempt, { onState: show });
  document.getElementById("rtc-preview").srcObject = session.stream;
  window.addEventListener("pagehide", session.stop);
} catch (error) {
  show("failed");
  state.title = error.message ?? String(error);
}
