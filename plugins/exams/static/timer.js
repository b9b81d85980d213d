// The exam timer. The server owns the deadline: the page only measures how far the device's
// clock is from the server's (`server_now`), so a wrong device clock changes nothing.

/** "1:05:09" or "05:09". @param {number} ms */
export function formatLeft(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(s).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/**
 * Start counting down to `deadlineAt`.
 * @param {{deadlineAt: string, serverNow: string, sentAt: number, display: HTMLElement,
 *          announce: HTMLElement, onExpired: () => void}} options `sentAt` is the device time
 *   the request for `serverNow` was sent; the answer's midpoint is taken as `serverNow`.
 * @returns {{stop: () => void, left: () => number}}
 */
export function startTimer({ deadlineAt, serverNow, sentAt, display, announce, onExpired }) {
  const offset = Date.parse(serverNow) - (sentAt + Date.now()) / 2;
  const deadline = Date.parse(deadlineAt);
  const left = () => deadline - (Date.now() + offset);
  const said = new Set();
  let expired = false;
  const tick = () => {
    const ms = left();
    display.textContent = formatLeft(ms);
    display.parentElement?.classList.toggle("is-low", ms <= 5 * 60_000);
    for (const minutes of [5, 1]) {
      if (ms <= minutes * 60_000 && ms > (minutes - 1) * 60_000 && !said.has(minutes) && ms > 0) {
        said.add(minutes);
        announce.textContent = `${minutes} ${minutes === 1 ? "minute" : "minutes"} left. Your answers are saved as you go.`;
      }
    }
    if (ms <= 0 && !expired) {
      expired = true;
      onExpired();
    }
  };
  tick();
  const handle = setInterval(tick, 1000);
  return { stop: () => clearInterval(handle), left };
}
