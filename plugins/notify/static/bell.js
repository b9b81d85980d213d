// The header bell: the unread count, kept current over the notifications WebSocket.
const bell = document.querySelector("[data-notify-bell]");
const badge = bell?.querySelector("[data-notify-count]");
let unread = 0;

function show(count) {
  unread = Math.max(0, count);
  badge.hidden = unread === 0;
  badge.textContent = unread > 99 ? "99+" : String(unread);
  bell.setAttribute("aria-label", unread ? `Notifications, ${unread} unread` : "Notifications");
}

function follow(delay = 1000) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/api/v1/notifications/live`);
  socket.addEventListener("open", () => (delay = 1000));
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "hello") show(message.unread);
    if (message.type === "notification") show(unread + 1);
  });
  // Back off up to a minute, so a server restart is not met by a storm of reconnects; 4001 is
  // a session that ended (the accounts dialog says so): nothing to reconnect to.
  socket.addEventListener("close", (event) => {
    if (event.code !== 4001) setTimeout(() => follow(Math.min(delay * 2, 60000)), delay);
  });
}

// Pages that mark notifications read tell the bell the new count.
document.addEventListener("notify:unread", (event) => show(event.detail));

if (bell && badge) {
  show(0);
  follow();
}
