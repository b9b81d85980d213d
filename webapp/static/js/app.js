// Small enhancements every page shares. Pages import their own modules for anything more;
// the site works without this file, it only smooths a few edges.

document.documentElement.classList.add("js");

// In-page links (the skip link) must move keyboard focus, not only scroll, or the next Tab
// press starts from the top of the page again.
document.addEventListener("click", (event) => {
  const link = event.target.closest?.('a[href^="#"]');
  const id = link?.getAttribute("href").slice(1);
  const target = id ? document.getElementById(id) : null;
  if (!target) return;
  if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus();
});

// <form data-confirm="Delete this exam?"> asks before a destructive action.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset?.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// <time datetime="2024-05-01T09:00:00Z" data-local> shows the reader's own time zone.
for (const el of document.querySelectorAll("time[data-local]")) {
  const when = new Date(el.getAttribute("datetime"));
  if (!Number.isNaN(when.getTime())) {
    el.textContent = new Intl.DateTimeFormat(undefined, {
      dateStyle: "medium",
      timeStyle: "short",
    }).format(when);
  }
}

/**
 * Call the JSON API; on failure throw an Error carrying the envelope's code and request id,
 * so callers can show "what to do next" instead of a raw status.
 */
export async function api(path, { method = "GET", body, headers = {} } = {}) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error(data?.error?.message ?? `Request failed (${response.status})`);
    error.code = data?.error?.code ?? "http_error";
    error.status = response.status;
    error.details = data?.error?.details;
    error.requestId = data?.error?.request_id ?? response.headers.get("X-Request-ID");
    throw error;
  }
  return data;
}
