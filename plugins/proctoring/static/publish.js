// Publish the candidate's camera, microphone and browser telemetry to the proctoring server.
// Gathering finishes before the offer is sent (no trickle ICE): one POST sets the connection
// up, and the server needs no signalling socket. `iceServers: []` keeps the browser from
// asking a public STUN server; the server's own ICE settings decide what it offers back.

import { api } from "/static/accounts/api.js";

const TELEMETRY_EVENTS = [
  [document, "visibilitychange", () => ({ type: "visibility", state: document.visibilityState })],
  [window, "blur", () => ({ type: "blur" })],
  [window, "focus", () => ({ type: "focus" })],
  [document, "fullscreenchange", () => (document.fullscreenElement ? null : { type: "fullscreen_exit" })],
  [document, "copy", () => ({ type: "copy" })],
  [document, "paste", () => ({ type: "paste" })],
];

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
  });
}

/**
 * Start publishing for an attempt.
 * @param {string} attemptId
 * @param {{onState?: (state: string) => void, iceServers?: RTCIceServer[]}} [options]
 * @returns {Promise<{pc: RTCPeerConnection, stream: MediaStream, stop: () => void}>}
 */
export async function publish(attemptId, options = {}) {
  const onState = options.onState ?? (() => {});
  const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  const pc = new RTCPeerConnection({ iceServers: options.iceServers ?? [] });
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  const channel = pc.createDataChannel("telemetry");
  const listeners = TELEMETRY_EVENTS.map(([target, name, build]) => {
    const listener = () => {
      const message = build();
      if (message && channel.readyState === "open") {
        channel.send(JSON.stringify({ ...message, at: Date.now() }));
      }
    };
    target.addEventListener(name, listener);
    return () => target.removeEventListener(name, listener);
  });
  pc.addEventListener("connectionstatechange", () => onState(pc.connectionState));
  const base = `/api/v1/attempts/${encodeURIComponent(attemptId)}/rtc`;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    listeners.forEach((remove) => remove());
    stream.getTracks().forEach((track) => track.stop());
    pc.close();
    onState("closed");
  };
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const answer = await api(`${base}/offer`, {
      method: "POST",
      json: { sdp: pc.localDescription.sdp, type: "offer" },
    });
    await pc.setRemoteDescription(answer);
  } catch (error) {
    stop();
    throw error;
  }
  return { pc, stream, stop };
}
