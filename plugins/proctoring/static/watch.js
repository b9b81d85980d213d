// Watch a candidate live: the server relays the candidate's camera and microphone to this page
// over a connection of the page's own (receive-only), so the candidate's browser keeps a single
// connection however many proctors watch. As in publish.js, gathering finishes before the offer
// is posted (no trickle ICE), and every connection first asks for fresh STUN/TURN servers.
//
// Only the server process holding the candidate's connection can answer, and the candidate's
// page reconnects on its own (a reload, a network change) which closes every watcher, so the
// watch reconnects by itself too: after the server closed its end, after a failed connection
// or one that stays disconnected, and while the POST answers 404 (not connected yet). Waits
// grow from 1 s to 10 s and start again from 1 s once connected.

import { api, csrfToken } from "/static/accounts/api.js";
import { iceServers } from "./ice.js";

const FIRST_DELAY_MS = 1000;
const LAST_DELAY_MS = 10000;
const DISCONNECTED_GRACE_MS = 3000; // "disconnected" often recovers; "failed" takes ~30 s
const RETRY = new Set([0, 404, 409, 429, 500, 502, 503, 504]); // 0: the network

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
  });
}

/**
 * Show an attempt's live video (and audio, muted until the page unmutes the element).
 *
 * `onState(state, error)` hears: "connecting", "connected", "disconnected", "waiting" (the
 * candidate has no live connection yet; retrying), "busy" (too many watchers; retrying),
 * "reconnecting", "failed" (refused for good, e.g. 403; `error` is the ApiError; stopped) and
 * "closed" (after `stop()`). A refusal on the first try also rejects the returned promise.
 * @param {string} attemptId
 * @param {HTMLVideoElement} videoElement
 * @param {{onState?: (state: string, error?: Error) => void}} [options]
 * @returns {Promise<{pc: RTCPeerConnection|null, stop: () => void}>} `pc` is the current one
 */
export async function watch(attemptId, videoElement, { onState = () => {} } = {}) {
  const url = `/api/v1/proctor/attempts/${encodeURIComponent(attemptId)}/watch`;
  let pc = null;
  let stopped = false;
  let delay = FIRST_DELAY_MS;
  let retryTimer = null;
  let graceTimer = null;

  videoElement.muted = true;
  videoElement.autoplay = true;
  videoElement.playsInline = true;

  const drop = () => {
    clearTimeout(graceTimer);
    graceTimer = null;
    if (pc) pc.close();
    pc = null;
  };

  const retry = (state) => {
    if (stopped || retryTimer) return;
    drop();
    onState(state);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect().catch(() => {});
    }, delay);
    delay = Math.min(delay * 2, LAST_DELAY_MS);
  };

  const stop = () => {
    if (stopped) return;
    stopped = true;
    window.removeEventListener("pagehide", stop);
    clearTimeout(retryTimer);
    drop();
    videoElement.srcObject = null;
    // keepalive: the request outlives a page that is going away. Best effort: the server
    // also closes the watch when this end closes (or, for a crashed tab, when ICE times out).
    fetch(url, {
      method: "DELETE",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken() },
      keepalive: true,
    }).catch(() => {});
    onState("closed");
  };
  window.addEventListener("pagehide", stop);

  const watchState = (current) => () => {
    if (current !== pc) return; // an older connection, already replaced
    const state = current.connectionState;
    clearTimeout(graceTimer);
    graceTimer = null;
    if (state === "connected") {
      delay = FIRST_DELAY_MS;
      onState(state);
    } else if (state === "failed" || state === "closed") {
      retry("reconnecting");
    } else if (state === "disconnected") {
      onState(state);
      graceTimer = setTimeout(() => retry("reconnecting"), DISCONNECTED_GRACE_MS);
    }
  };

  async function connect() {
    if (stopped) return;
    const servers = await iceServers();
    if (stopped) return;
    const current = new RTCPeerConnection({ iceServers: servers });
    pc = current;
    const stream = new MediaStream();
    for (const kind of ["video", "audio"]) {
      stream.addTrack(current.addTransceiver(kind, { direction: "recvonly" }).receiver.track);
    }
    current.addEventListener("connectionstatechange", watchState(current));
    videoElement.srcObject = stream;
    videoElement.play().catch(() => {}); // autoplay rules: muted video plays, the rest waits
    onState("connecting");
    try {
      await current.setLocalDescription(await current.createOffer());
      await gathered(current);
      if (current !== pc) return;
      const answer = await api(url, {
        method: "POST",
        json: { sdp: current.localDescription.sdp, type: "offer" },
      });
      if (current !== pc) return;
      await current.setRemoteDescription(answer);
      // The server closing its end (the candidate reconnected) shows here at once as DTLS
      // close_notify, while the connection state would only say "disconnected" seconds later.
      const transport = current.getReceivers()[0]?.transport;
      transport?.addEventListener("statechange", () => {
        if (current === pc && (transport.state === "closed" || transport.state === "failed")) {
          retry("reconnecting");
        }
      });
    } catch (error) {
      if (current !== pc) return;
      const status = error?.status ?? 0;
      if (RETRY.has(status)) {
        retry(status === 404 ? "waiting" : status === 409 ? "busy" : "reconnecting");
        return;
      }
      stopped = true;
      window.removeEventListener("pagehide", stop);
      drop();
      onState("failed", error);
      throw error;
    }
  }

  await connect();
  return {
    get pc() {
      return pc;
    },
    stop,
  };
}
