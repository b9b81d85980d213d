// Autosave with an outbox that survives a refresh, a crash or a dropped connection.
//
// Every item has a per-item `seq` that only ever grows. The newest answer of each item is kept
// in localStorage (one key per attempt and item) until the server acknowledges that seq; the
// server stores an answer only when its seq is newer than the stored one, so resending the same
// save is harmless (409 stale_answer) and an old save can never overwrite a newer one.
// While a proctor has the attempt paused the server refuses saves (409 attempt_paused): the
// outbox then holds everything and sends it once the page calls `resume()`.

import { api } from "../accounts/api.js";

const MAX_BACKOFF_MS = 30_000;

/**
 * @typedef {{seq: number, response: object, flagged: boolean, pending: boolean}} Entry
 * @typedef {{pending: number, sending: boolean, offline: boolean, paused: boolean, error: string}} OutboxState
 */

export class Outbox {
  /**
   * @param {string} attemptId
   * @param {{onState: (state: OutboxState) => void, onClosed: () => void,
   *          onSaved: (item: number) => void, onRejected: (item: number, message: string) => void,
   *          onPaused?: () => void}} hooks
   */
  constructor(attemptId, hooks) {
    this.attemptId = attemptId;
    this.hooks = hooks;
    this.prefix = `inv-exam:${attemptId}:`;
    this.inFlight = new Set();
    this.offline = !navigator.onLine;
    this.error = "";
    this.failures = 0;
    this.retryTimer = null;
    this.closed = false;
    this.paused = false;
    window.addEventListener("online", () => { this.offline = false; this.flush(); });
    window.addEventListener("offline", () => { this.offline = true; this.report(); });
  }

  /** @returns {Entry|null} the stored entry of `item` */
  get(item) {
    try {
      return JSON.parse(localStorage.getItem(this.prefix + item) ?? "null");
    } catch {
      return null;
    }
  }

  /** @param {number} item @param {Entry} entry */
  put(item, entry) {
    try {
      localStorage.setItem(this.prefix + item, JSON.stringify(entry));
    } catch {
      this.error = "This browser cannot keep answers on this device (storage is full or blocked).";
    }
  }

  /** Items with an answer not yet acknowledged by the server. @returns {number[]} */
  pendingItems() {
    const items = [];
    for (let i = 0; i < localStorage.length; i += 1) {
      const key = localStorage.key(i);
      if (!key?.startsWith(this.prefix)) continue;
      const item = Number(key.slice(this.prefix.length));
      if (this.get(item)?.pending) items.push(item);
    }
    return items.sort((a, b) => a - b);
  }

  /**
   * Take the server's copy into account: a newer server seq wins over an unsent local one.
   * @param {number} item
   * @param {{seq: number, response: object, flagged: boolean}|null} saved
   * @returns {Entry|null} the answer to show
   */
  reconcile(item, saved) {
    const local = this.get(item);
    if (saved && (!local || local.seq <= saved.seq)) {
      const entry = { seq: saved.seq, response: saved.response, flagged: saved.flagged, pending: false };
      this.put(item, entry);
      return entry;
    }
    return local;
  }

  /**
   * Record a new answer with the next seq; it is sent by the next flush.
   * @param {number} item @param {object} response @param {boolean} flagged
   */
  record(item, response, flagged) {
    const seq = (this.get(item)?.seq ?? 0) + 1;
    this.put(item, { seq, response, flagged, pending: true });
    this.report();
  }

  /** Send every pending answer now (each item one request at a time). */
  async flush() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await Promise.all(this.pendingItems().map((item) => this.send(item)));
    this.report();
  }

  /** @param {number} item */
  async send(item) {
    if (this.closed || this.paused || this.inFlight.has(item)) return;
    const entry = this.get(item);
    if (!entry?.pending) return;
    this.inFlight.add(item);
    this.report();
    try {
      await api(`/api/v1/attempts/${this.attemptId}/answers/${item}`, {
        method: "PUT",
        json: { seq: entry.seq, response: entry.response, flagged: entry.flagged },
      });
      this.acknowledge(item, entry.seq);
      this.failures = 0;
      this.offline = false;
      this.error = "";
      this.hooks.onSaved(item);
    } catch (error) {
      this.failed(item, entry.seq, error);
    } finally {
      this.inFlight.delete(item);
    }
    if (this.get(item)?.pending && !this.retryTimer && !this.closed && !this.paused && this.failures === 0) {
      await this.send(item); // changed while this one was in flight
    }
    this.report();
  }

  /** @param {number} item @param {number} seq */
  acknowledge(item, seq) {
    const current = this.get(item);
    if (current && current.seq === seq) this.put(item, { ...current, pending: false });
  }

  /** Hold every answer (kept pending on this device) until `resume()`. */
  pause() {
    this.paused = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.report();
  }

  /** The proctor resumed the attempt: send what was held. */
  resume() {
    if (!this.paused) return;
    this.paused = false;
    this.flush();
  }

  failed(item, seq, error) {
    if (error.code === "attempt_closed") {
      this.closed = true;
      this.hooks.onClosed();
    } else if (error.code === "attempt_paused") {
      if (!this.paused) {
        this.pause(); // the answer stays pending and is sent after the resume
        this.hooks.onPaused?.();
      }
    } else if (error.code === "stale_answer") {
      this.acknowledge(item, seq); // the server holds a newer answer: nothing left to send
    } else if (error.status === 0 || error.status >= 500 || error.status === 429) {
      this.offline = error.status === 0;
      this.failures += 1;
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.failures - 1));
      if (!this.retryTimer) this.retryTimer = setTimeout(() => this.flush(), delay);
    } else {
      this.acknowledge(item, seq); // refused for good (422, 413, sequence): say so, do not loop
      this.hooks.onRejected(item, error.message);
    }
  }

  report() {
    this.hooks.onState({
      pending: this.pendingItems().length,
      sending: this.inFlight.size > 0,
      offline: this.offline,
      paused: this.paused,
      error: this.error,
    });
  }
}

/**
 * Send everything and wait until the server has it all, or give up when it cannot be reached.
 * @param {Outbox} outbox
 * @param {number} [timeoutMs]
 * @returns {Promise<boolean>} whether nothing is left unsent
 */
export async function drain(outbox, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    outbox.failures = 0;
    await outbox.flush();
    if (!outbox.pendingItems().length && !outbox.inFlight.size) return true;
    if (outbox.failures > 0 || outbox.closed || outbox.paused) return false;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}
