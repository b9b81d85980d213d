// Administrators' delivery history: filters, the reason of each failure, and retry.
import { api } from "../accounts/api.js";

const form = document.getElementById("notify-filters");
const body = document.getElementById("notify-rows");
const total = document.getElementById("notify-total");
const status = document.getElementById("notify-status");

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  return td;
}

function row(m) {
  const tr = document.createElement("tr");
  tr.append(
    cell(new Date(m.created_at).toLocaleString()),
    cell(m.event),
    cell(m.channel),
    cell(m.recipient),
    cell(m.status),
    cell(String(m.attempts)),
    cell(m.last_error || m.provider_id),
  );
  const actions = document.createElement("td");
  if (m.status === "failed") {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn";
    button.textContent = "Retry";
    button.addEventListener("click", async () => {
      try {
        await api(`/api/v1/admin/notifications/${m.id}/retry`, { method: "POST" });
        await load();
      } catch (error) {
        status.textContent = error.message;
      }
    });
    actions.append(button);
  }
  tr.append(actions);
  return tr;
}

async function load() {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(form)) if (value) params.set(key, value);
  try {
    const page = await api(`/api/v1/admin/notifications?${params}`);
    body.replaceChildren(...page.items.map(row));
    total.textContent = `${page.total} message${page.total === 1 ? "" : "s"}`;
  } catch (error) {
    status.textContent = error.message;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
load();
