// Zvonok's service worker (issue 18): shows a Web Push notification with the chat and the sender, and opens the
// chat when it is clicked. Served at /sw.js so that its scope is the whole client.
"use strict";

self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (error) { data = {}; }
  const count = data.count > 1 ? ` (${data.count})` : "";
  const title = `${data.title || "Звонок"}${count}`;
  const body = data.from ? `${data.from}: ${data.text || "новое сообщение"}` : (data.text || "Новое сообщение");
  event.waitUntil(self.registration.showNotification(title, { body, tag: data.chat || "zvonok", data: { chat: data.chat } }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const chat = event.notification.data && event.notification.data.chat;
  const url = chat ? `/#chat=${encodeURIComponent(chat)}` : "/";
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    if (windows.length > 0) {
      await windows[0].focus();
      windows[0].postMessage({ type: "open-chat", chat });
      return;
    }
    await self.clients.openWindow(url);
  })());
});
