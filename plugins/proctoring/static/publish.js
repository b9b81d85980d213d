// Publish the candidate's camera, microphone and browser telemetry to the proctoring server.
// Gathering finishes before the offer is sent (no trickle ICE): one POST sets the connection
// up, and the server needs no signalling socket. Each connection, reconnections included,
// first asks the server for its STUN/TURN servers (ice.js: TURN credentials are short-lived);
// with none configured the list is empty, which keeps the browser off public STUN servers.
//
// With `reconnect`, a connection that fails or drops, or an offer lost to the network, is
// replaced by a new offer after 1 s, then 2, 4 … up to 10 s between tries; the camera stays
// on meanwhile. A 404 means the attempt is over: publishing stops for good ("ended").

import { api } from "/static/accounts/api.js";
import { iceServers } from "./ice.js";

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 10000;

/** Telemetry a page sends on its own: [target, event, message builder (null: nothing)]. */
const TELEMETRY_EVENTS = [
  [document, "visibilitychange", () => ({ type: "visibility", state: document.visibilityState })],
  [window, "blur", () => ({ type: "blur" })],
  [window, "focus", () => ({ type: "focus" })],
  [document, "fullscreenchange", () => (document.fullscreenElement ? null : { type: "fullscreen_exit" })],
  [document, "copy", () => ({ type: "copy" })],
  [document, "paste", () => ({ type: "paste" })],
];

/** How many screens this device shows; 2 stands for "more than one" where the browser says. */
function screens() {
  return { type: "screens", count: window.screen.isExtended ? 2 : 1 };
}

function reloaded() {
  const [navigation] = performance.getEntriesByType?.("navigation") ?? [];
  return navigation?.type === "reload";
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
  });
}

/** Errors worth another offer: the network, or a server that is busy or restarting. */
function retryable(error) {
  return error?.status === 0 || error?.status >= 500 || error?.status === 429;
}

/**
 * Start publishing.
 * @param {string|{offer: string, close?: string}} target an attempt id (the attempt's own
 *   endpoints), or the offer URL (and the URL a DELETE closes) of another kind of connection
 * @param {{onState?: (state: string, error?: Error) => void, iceServers?: RTCIceServer[],
 *          telemetry?: boolean, reconnect?: boolean}} [options] `iceServers` replaces the
 *   server's list (asked for before each connection otherwise)
 *   States: connecting, connected, disconnected, failed, reconnecting, ended, closed.
 * @returns {Promise<{readonly pc: RTCPeerConnection, stream: MediaStream, stop: () => void,
 *          close: () => Promise<void>}>}
 */
export async function publish(target, options = {}) {
  const onState = options.onState ?? (() => {});
  const withTelemetry = options.telemetry ?? true;
  const base = typeof target === "string" ? `/api/v1/attempts/${encodeURIComponent(target)}/rtc` : null;
  const offerUrl = base ? `${base}/offer` : target.offer;
  const closeUrl = base ?? target.close ?? null;

  const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  let pc = null;
  let channel = null;
  let stopped = false;
  let delay = RETRY_FIRST_MS;
  let timer = null;
  let reloadSent = false;

  const send = (message) => {
    if (message && channel?.readyState === "open") {
      channel.send(JSON.stringify({ ...message, at: Date.now() }));
    }
  };
  const removers = [];
  if (withTelemetry) {
    for (const [target_, name, build] of TELEMETRY_EVENTS) {
      const listener = () => send(build());
      target_.addEventListener(name, listener);
      removers.push(() => target_.removeEventListener(name, listener));
    }
    if ("onchange" in window.screen) {
      const listener = () => send(screens());
      window.screen.addEventListener("change", listener);
      removers.push(() => window.screen.removeEventListener("change", listener));
    }
  }

  const report = (state, error) => { if (!stopped || state === "closed" || state === "ended") onState(state, error); };

  const stop = (state = "closed") => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    removers.forEach((remove) => remove());
    stream.getTracks().forEach((track) => track.stop());
    pc?.close();
    onState(state);
  };

  const schedule = () => {
    if (stopped || !options.reconnect || timer) return;
    report("reconnecting");
    timer = setTimeout(() => {
      timer = null;
      if (stopped || healthy()) return;
      connect().catch(() => {});
    }, delay);
    delay = Math.min(delay * 2, RETRY_MAX_MS);
  };

  /** Connected end to end: ICE up and the server has not closed DTLS (it does when it drops
   * the peer, while the browser's ICE can still look connected for a while). */
  function healthy() {
    const dtls = pc?.getSenders().find((sender) => sender.transport)?.transport;
    return pc?.connectionState === "connected" && (!dtls || dtls.state === "connected");
  }

  async function connect() {
    pc?.close();
    pc = null; // the old connection reports nothing more while the servers are asked for
    const servers = options.iceServers ?? (await iceServers());
    if (stopped) return;
    const current = new RTCPeerConnection({ iceServers: servers });
    pc = current;
    for (const track of stream.getTracks()) current.addTrack(track, stream);
    if (withTelemetry) {
      const opened = current.createDataChannel("telemetry");
      channel = opened;
      opened.addEventListener("open", () => {
        send(screens());
        if (!reloadSent && reloaded()) {
          reloadSent = true;
          send({ type: "reload" });
        }
      });
    }
    current.addEventListener("connectionstatechange", () => {
      if (current !== pc || stopped) return;
      const state = current.connectionState;
      report(state);
      if (state === "connected") delay = RETRY_FIRST_MS;
      if (state === "failed" || state === "disconnected") schedule();
    });
    report("connecting");
    try {
      await current.setLocalDescription(await current.createOffer());
      await gathered(current);
      const answer = await api(offerUrl, {
        method: "POST",
        json: { sdp: current.localDescription.sdp, type: "offer" },
      });
      if (current !== pc || stopped) return;
      await current.setRemoteDescription(answer);
      const dtls = current.getSenders().find((sender) => sender.transport)?.transport;
      dtls?.addEventListener("statechange", () => {
        if (current !== pc || stopped) return;
        if (dtls.state === "closed" || dtls.state === "failed") {
          report("disconnected");
          schedule();
        }
      });
    } catch (error) {
      if (current !== pc || stopped) return;
      if (error?.status === 404) {
        stop("ended");
        throw error;
      }
      if (options.reconnect && retryable(error)) {
        schedule();
        return;
      }
      report("failed", error);
      throw error;
    }
  }

  try {
    await connect();
  } catch (error) {
    stop(error?.status === 404 ? "ended" : "closed");
    throw error;
  }
  return {
    get pc() { return pc; },
    stream,
    stop: () => stop(),
    /** Stop, and tell the server to close its side now (best effort). */
    async close() {
      stop();
      if (closeUrl) await api(closeUrl, { method: "DELETE" }).catch(() => {});
    },
  };
}
