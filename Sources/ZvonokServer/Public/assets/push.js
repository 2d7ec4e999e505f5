// Web Push for the chat page (issue 18): registers the service worker (/sw.js) once signed in, and subscribes this
// browser when the person asks for notifications — the server's VAPID key, the browser's push service, then
// POST /v1/me/push-subscriptions. Shows why when the browser refuses.
"use strict";

const Push = {
  async register() {
    if (!("serviceWorker" in navigator)) return null;
    try { return await navigator.serviceWorker.register("/sw.js"); } catch (error) { return null; }
  },

  async subscribe(status) {
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      status.textContent = "Этот браузер не умеет получать уведомления.";
      return;
    }
    status.textContent = "Включаем уведомления…";
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        status.textContent = "Уведомления запрещены в настройках браузера.";
        return;
      }
      const registration = await navigator.serviceWorker.ready;
      const { key } = await Session.api("/v1/push/vapid-key");
      const subscription = await Push.within(
        registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: Push.bytes(key) }), Push.subscribeTimeout);
      await Session.api("/v1/me/push-subscriptions", { method: "POST", body: subscription.toJSON() });
      status.textContent = "Уведомления включены.";
    } catch (error) {
      status.textContent = `Не удалось включить уведомления: ${error.message}`;
    }
  },

  // The browser's push service may never answer (none is reachable): give up after this many milliseconds.
  subscribeTimeout: 10000,

  within(promise, milliseconds) {
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("служба уведомлений браузера не отвечает")), milliseconds));
    return Promise.race([promise, timeout]);
  },

  // base64url → bytes, as applicationServerKey takes it.
  bytes(base64url) {
    const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4);
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  },
};

// A click on a notification while the page is open opens its chat here.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "open-chat" && event.data.chat) openChat(event.data.chat);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("push-enable");
  if (button) button.addEventListener("click", () => Push.subscribe(document.getElementById("push-status")));
});
