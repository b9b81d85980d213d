// My notifications: the inbox (live over a WebSocket) and per-category channel settings.
import { api } from "../accounts/api.js";

const list = document.getElementById("notify-inbox");
const unread = document.getElementById("notify-unread");
const status = document.getElementById("notify-status");
const form = document.getElementById("notify-prefs");
const rows = document.getElementById("notify-categories");
const CHANNELS = ["email", "sms", "inapp"];

function say(text) {
  status.textContent = text;
}

function showUnread(count) {
  unread.textContent = count ? `${count} unread` : "";
  document.dispatchEvent(new CustomEvent("notify:unread", { detail: count }));
}

function item(n) {
  const li = document.createElement("li");
  li.className = n.read_at ? "notify-item" : "notify-item notify-item--unread";
  const title = document.createElement(n.link ? "a" : "strong");
  if (n.link) title.href = n.link;
  title.textContent = n.title;
  const when = document.createElement("time");
  when.dateTime = n.created_at;
  when.textContent = new Date(n.created_at).toLocaleString();
  const body = document.createElement("p");
  body.textContent = n.body;
  li.append(title, " ", when, body);
  if (!n.read_at) {
    const read = document.createElement("button");
    read.type = "button";
    read.className = "btn";
    read.textContent = "Mark read";
    read.addEventListener("click", async () => {
      const inbox = await api(`/api/v1/notifications/${n.id}/read`, { method: "POST" });
      list.replaceChildren(...inbox.items.map(item));
      showUnread(inbox.unread);
    });
    li.append(read);
  }
  return li;
}

async function loadInbox() {
  const inbox = await api("/api/v1/notifications");
  list.replaceChildren(...inbox.items.map(item));
  showUnread(inbox.unread);
}

async function loadPrefs() {
  const prefs = await api("/api/v1/notifications/preferences");
  form.language.value = prefs.language;
  form.phone.value = prefs.phone;
  rows.replaceChildren(
    ...prefs.categories.map((c) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = c.label;
      tr.append(th);
      for (const channel of CHANNELS) {
        const td = document.createElement("td");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.name = `${c.category}:${channel}`;
        box.checked = c.channels[channel];
        box.disabled = c.locked.includes(channel);
        box.setAttribute("aria-label", `${c.label}: ${channel}`);
        td.append(box);
        tr.append(td);
      }
      return tr;
    }),
  );
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const channels = {};
  for (const box of form.querySelectorAll("input[type=checkbox]:not(:disabled)")) {
    const [category, channel] = box.name.split(":");
    (channels[category] ??= {})[channel] = box.checked;
  }
  try {
    await api("/api/v1/notifications/preferences", {
      method: "PUT",
      json: { language: form.language.value.trim(), phone: form.phone.value.trim(), channels },
    });
    say("Saved.");
  } catch (error) {
    say(`Not saved: ${error.message}`);
  }
});

document.getElementById("notify-read-all").addEventListener("click", async () => {
  await api("/api/v1/notifications/all/read", { method: "POST" });
  await loadInbox();
});

function follow() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/api/v1/notifications/live`);
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "notification") loadInbox().catch((error) => say(error.message));
  });
  socket.addEventListener("close", (event) => {
    if (event.code !== 4001) setTimeout(follow, 5000); // 4001: the session ended
  });
}

await Promise.all([loadInbox(), loadPrefs()]).catch((error) => say(error.message));
follow();
