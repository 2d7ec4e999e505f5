// The chat page: sign-in, chats grouped by kind, history with infinite scroll, sending, live messages, typing and
// read marks over the WebSocket, and resuming with `sync` after the connection drops (docs/protocol.md).
"use strict";

const kindGroups = [
  ["class", "Классы"], ["class_parents", "Родители класса"], ["school_staff", "Педагоги"],
  ["school", "Школа"], ["municipality", "Округ"], ["direct", "Личные"],
];
const pageSize = 50;
const $ = (id) => document.getElementById(id);

const state = {
  me: null,
  chats: new Map(),      // id → {id, kind, title, lastSeq, readSeq, loaded, oldest, newest, complete, messages: Map(seq → msg)}
  names: new Map(),      // person id → name
  open: null,            // the open chat's id
  socket: null,
  connected: false,
  retry: 0,
  pending: new Map(),    // cid → {chat, text, files}: sent, not yet acked; sent again after a reconnect
  syncing: new Set(),    // chats with a `sync` in flight
  typing: new Map(),     // chat id → Map(person → timeout)
  lastTypingSent: 0,
};

// ---------------------------------------------------------------- start and sign-in

async function start() {
  try { await Session.finishProviderSignIn(); } catch (error) { showSignIn(error.message); return; }
  const invite = Session.takeInviteFromLink();
  if (invite) {
    try { await Session.activate(invite); } catch (error) { showSignIn(`Ссылка не сработала: ${error.message}`); return; }
  }
  if (!Session.token) { showSignIn(); return; }
  try {
    state.me = await Session.api("/v1/me");
  } catch (error) {
    if (error.status === 401) Session.token = null;
    showSignIn(error.status === 401 ? "" : error.message);
    return;
  }
  showApp();
  Push.register();
}

function showSignIn(message = "") {
  $("app").hidden = true;
  $("who").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message;
  $("invite-code").focus();
  offerProvider();
}

// Shows the provider's button (its label is the server's `--oidc-button-label`) when the server offers one.
async function offerProvider() {
  const settings = await Session.providerSettings();
  if (!settings.enabled) return;
  $("provider-button").textContent = settings.label;
  $("provider-sign-in").hidden = false;
}

$("provider-button").addEventListener("click", async () => {
  $("sign-in-error").textContent = "";
  try { await Session.startProviderSignIn($("invite-code").value.trim()); } catch (error) { $("sign-in-error").textContent = error.message; }
});

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("sign-in-error").textContent = "";
  try {
    await Session.activate($("invite-code").value);
    $("invite-code").value = "";
    await // A sign-in link opened in a tab already on this page changes only the hash: start over with it.
window.addEventListener("hashchange", () => { if (location.hash.startsWith("#invite=")) location.reload(); });

start();
  } catch (error) {
    $("sign-in-error").textContent = error.code === "not_found" ? "Код не подошёл: он неверный, уже использован или устарел." : error.message;
  }
});

$("sign-out").addEventListener("click", async () => {
  await Session.api("/v1/me/token", { method: "DELETE" }).catch(() => {});
  Session.token = null;
  location.reload();
});

function showApp() {
  $("sign-in").hidden = true;
  $("app").hidden = false;
  $("who").hidden = false;
  Session.showWho(state.me);
  $("rating-link").hidden = !Session.isOverseer(state.me.role);
  state.names.set(state.me.id, state.me.name);
  connect();
}

// ---------------------------------------------------------------- the WebSocket

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/v1/ws?token=${encodeURIComponent(Session.token)}`);
  state.socket = socket;
  socket.addEventListener("message", (event) => receive(JSON.parse(event.data)));
  socket.addEventListener("close", (event) => {
    if (state.socket !== socket) return;
    state.connected = false;
    state.syncing.clear();
    if (event.code === 4001) { Session.token = null; showSignIn("Сеанс завершён, войдите снова."); return; }
    const delay = Math.min(15000, 1000 * 2 ** state.retry++);
    setStatus(`Нет связи. Переподключение через ${Math.round(delay / 1000)} с…`, true);
    setTimeout(connect, delay);
  });
  setStatus("Подключение…");
}

function send(frame) {
  if (state.connected) state.socket.send(JSON.stringify(frame));
}

function setStatus(text, offline = false) {
  $("status").textContent = text;
  $("status").classList.toggle("offline", offline);
}

// Every server frame, by type.
const handlers = {
  ready(frame) {
    state.connected = true;
    state.retry = 0;
    setStatus("");
    for (const chat of frame.chats) mergeChat(chat);
    renderChatList();
    // Catch up whatever arrived while we were away, then send what was not acked.
    for (const chat of state.chats.values()) if (chat.loaded) syncChat(chat);
    for (const [cid, message] of state.pending) send(sendFrame(message.chat, cid, message.text, message.files));
    if (state.chats.size === 0) $("chat-title").textContent = "Чатов пока нет";
    else if (!state.open && window.matchMedia("(min-width: 701px)").matches) openChat(firstChat().id);
  },
  msg(frame) {
    const chat = state.chats.get(frame.chat);
    if (!chat) return;
    if (chat.loaded && frame.seq > chat.newest + 1 && !state.syncing.has(chat.id)) { syncChat(chat); return; }
    chat.lastSeq = Math.max(chat.lastSeq, frame.seq);
    if (frame.from === state.me.id) chat.readSeq = Math.max(chat.readSeq, frame.seq);
    if (chat.loaded && frame.seq <= chat.newest + 1) addMessage(chat, frame);
    clearTyping(chat.id, frame.from);
    if (chat.id === state.open) markRead(chat); else renderChatList();
  },
  synced(frame) {
    state.syncing.delete(frame.chat);
    const chat = state.chats.get(frame.chat);
    if (chat && chat.id === state.open) markRead(chat);
  },
  ack(frame) {
    state.pending.delete(frame.cid);
    const chat = state.chats.get(frame.chat);
    document.querySelector(`[data-cid="${CSS.escape(frame.cid)}"]`)?.remove();
    if (chat?.loaded && frame.seq <= chat.newest + 1) {
      const sent = chat.sent.get(frame.cid) ?? { text: "", files: [] };
      addMessage(chat, { chat: frame.chat, seq: frame.seq, id: frame.id, from: state.me.id, text: sent.text, files: sent.files, ts: frame.ts });
    }
  },
  edited(frame) { updateMessage(frame.chat, frame.seq, { text: frame.text, editedAt: frame.editedAt }); },
  deleted(frame) { updateMessage(frame.chat, frame.seq, { text: "", deleted: true }); },
  read(frame) {
    if (frame.user === state.me.id) return;
    document.querySelectorAll(`#messages .message.mine`).forEach((element) => {
      if (Number(element.dataset.seq) <= frame.seq && element.dataset.chat === frame.chat) element.querySelector(".tick").textContent = "✓✓";
    });
  },
  typing(frame) { showTyping(frame.chat, frame.user); },
  error(frame) {
    console.warn("refused:", frame);
    if (frame.code === "rate_limited" || frame.code === "unavailable") return; // pending sends go again on reconnect
    if (state.pending.delete(frame.ref)) document.querySelector(`[data-cid="${CSS.escape(frame.ref)}"]`)?.classList.add("failed");
    setStatus(Session.errorTexts[frame.code] ?? "Ошибка.", true);
  },
  pong() {},
};

function receive(frame) {
  handlers[frame.type]?.(frame);
}

function syncChat(chat) {
  state.syncing.add(chat.id);
  send({ type: "sync", chat: chat.id, after: chat.newest });
}

// ---------------------------------------------------------------- chats

function mergeChat(summary) {
  const known = state.chats.get(summary.id);
  if (known) Object.assign(known, { title: summary.title, lastSeq: summary.lastSeq, readSeq: summary.readSeq });
  else state.chats.set(summary.id, { ...summary, loaded: false, oldest: 0, newest: 0, complete: false, messages: new Map(), sent: new Map() });
}

function firstChat() {
  for (const [kind] of kindGroups) for (const chat of state.chats.values()) if (chat.kind === kind) return chat;
  return state.chats.values().next().value;
}

function renderChatList() {
  const groups = $("chat-groups");
  const focused = groups.contains(document.activeElement) ? document.activeElement.dataset.chat : null;
  groups.replaceChildren();
  for (const [kind, heading] of kindGroups) {
    const chats = [...state.chats.values()].filter((chat) => chat.kind === kind);
    if (chats.length === 0) continue;
    const title = document.createElement("h3");
    title.textContent = heading;
    const list = document.createElement("ul");
    for (const chat of chats) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.chat = chat.id;
      if (chat.id === state.open) button.setAttribute("aria-current", "true");
      const name = document.createElement("span");
      name.textContent = chat.title;
      button.append(name);
      const unread = chat.lastSeq - chat.readSeq;
      if (unread > 0 && chat.id !== state.open) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = unread;
        badge.setAttribute("aria-label", `непрочитанных: ${unread}`);
        button.append(badge);
      }
      button.addEventListener("click", () => openChat(chat.id));
      const item = document.createElement("li");
      item.append(button);
      list.append(item);
    }
    groups.append(title, list);
  }
  // Redrawn on every message: keyboard focus stays on the chat it was on.
  if (focused) groups.querySelector(`button[data-chat="${focused}"]`)?.focus();
}

async function openChat(id) {
  const chat = state.chats.get(id);
  if (state.open !== id) Files.clear();
  state.open = id;
  $("app").classList.add("chat-open");
  $("chat-title").textContent = chat.title;
  $("messages").replaceChildren();
  $("typing").textContent = "";
  const mayPost = chat.kind !== "school" || ["teacher", "school_admin"].includes(state.me.role);
  $("composer").hidden = !mayPost;
  $("read-only").hidden = mayPost;
  renderChatList();
  loadNames(chat);
  if (!chat.loaded) {
    await loadOlder(chat);
    chat.loaded = true;
    if (state.connected) syncChat(chat);
  } else {
    for (const seq of [...chat.messages.keys()].sort((a, b) => a - b)) renderMessage(chat, chat.messages.get(seq));
  }
  scrollToEnd();
  markRead(chat);
  if (mayPost) $("composer-text").focus();
}

$("back").addEventListener("click", () => {
  $("app").classList.remove("chat-open");
  state.open = null;
  renderChatList();
  document.querySelector("#chat-groups button")?.focus();
});

// The members' names, for the messages' `from`.
async function loadNames(chat) {
  let cursor = null;
  do {
    const page = await Session.api(`/v1/chats/${chat.id}/members?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`).catch(() => null);
    if (!page) return;
    for (const member of page.items) state.names.set(member.id, member.name);
    cursor = page.next;
  } while (cursor);
  document.querySelectorAll("#messages .message").forEach((element) => {
    element.querySelector(".from").textContent = nameOf(element.dataset.from);
  });
}

function nameOf(id) {
  return id === state.me.id ? "Вы" : state.names.get(id) ?? id;
}

// One page of older history (infinite scroll upwards).
async function loadOlder(chat) {
  if (chat.complete || chat.loadingOlder) return;
  chat.loadingOlder = true;
  const before = chat.oldest > 0 ? `&before=${chat.oldest}` : "";
  try {
    const page = await Session.api(`/v1/chats/${chat.id}/messages?limit=${pageSize}${before}`);
    const box = $("messages");
    const fromBottom = box.scrollHeight - box.scrollTop;
    for (const message of page.items) addMessage(chat, message);
    if (chat.oldest === 0) chat.oldest = chat.lastSeq + 1;
    for (const message of page.items) chat.oldest = Math.min(chat.oldest, message.seq);
    chat.complete = page.next === null;
    if (chat.complete) showHistoryEdge(chat);
    if (chat.id === state.open) box.scrollTop = box.scrollHeight - fromBottom;
  } catch (error) {
    setStatus(error.message, true);
  } finally {
    chat.loadingOlder = false;
  }
}

$("messages").addEventListener("scroll", () => {
  const chat = state.chats.get(state.open);
  if (chat?.loaded && $("messages").scrollTop < 80) loadOlder(chat);
});

function showHistoryEdge(chat) {
  if (chat.id !== state.open || document.querySelector("#messages .history-edge")) return;
  const edge = document.createElement("p");
  edge.className = "history-edge";
  edge.textContent = chat.messages.size === 0 ? "Сообщений пока нет." : "Начало переписки";
  $("messages").prepend(edge);
}

// ---------------------------------------------------------------- messages

function addMessage(chat, message) {
  chat.messages.set(message.seq, message);
  chat.newest = Math.max(chat.newest, message.seq);
  chat.lastSeq = Math.max(chat.lastSeq, message.seq);
  if (chat.id === state.open) {
    document.querySelector("#messages .history-edge:only-child")?.remove();
    const box = $("messages");
    const atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    renderMessage(chat, message);
    if (atEnd) scrollToEnd();
  }
}

function renderMessage(chat, message) {
  const box = $("messages");
  const existing = box.querySelector(`.message[data-seq="${message.seq}"]`);
  const element = messageElement(message);
  if (existing) { existing.replaceWith(element); return; }
  // Keep seq order: before the first rendered message with a higher seq, else before pending sends, else last.
  const later = [...box.querySelectorAll(".message[data-seq]")].find((other) => Number(other.dataset.seq) > message.seq);
  box.insertBefore(element, later ?? box.querySelector(".message.pending"));
}

function messageElement(message) {
  const mine = message.from === state.me.id;
  const element = document.createElement("article");
  element.className = `message${mine ? " mine" : ""}${message.deleted ? " deleted" : ""}`;
  element.dataset.chat = message.chat;
  element.dataset.from = message.from;
  if (message.seq) element.dataset.seq = message.seq;
  const meta = document.createElement("div");
  meta.className = "meta";
  const from = document.createElement("span");
  from.className = "from";
  from.textContent = nameOf(message.from);
  const time = document.createElement("time");
  const ts = message.ts ? new Date(message.ts) : new Date();
  time.dateTime = ts.toISOString();
  time.title = ts.toLocaleString("ru-RU");
  time.textContent = ts.toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" }) + (message.editedAt ? " · изменено" : "");
  meta.append(from, time);
  if (mine) {
    const tick = document.createElement("span");
    tick.className = "tick";
    tick.textContent = message.seq ? "✓" : "…";
    tick.setAttribute("aria-hidden", "true");
    meta.append(tick);
  }
  const text = document.createElement("div");
  text.className = "text";
  text.textContent = message.deleted ? "Сообщение удалено" : message.text;
  element.append(meta, text);
  const files = message.deleted ? null : Files.render(message.files);
  if (files) element.append(files);
  return element;
}

function updateMessage(chatID, seq, change) {
  const chat = state.chats.get(chatID);
  const message = chat?.messages.get(seq);
  if (!message) return;
  Object.assign(message, change);
  if (chat.id === state.open) renderMessage(chat, message);
}

function markRead(chat) {
  if (chat.newest > chat.readSeq) {
    chat.readSeq = chat.newest;
    send({ type: "read", chat: chat.id, seq: chat.newest });
  }
  renderChatList();
}

function scrollToEnd() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

// ---------------------------------------------------------------- sending and typing

// A `send` frame; `files` are the uploads it carries.
function sendFrame(chat, cid, text, files) {
  return files.length ? { type: "send", chat, cid, text, files: files.map((file) => file.id) } : { type: "send", chat, cid, text };
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("composer-text");
  const text = input.value.trim();
  const chat = state.chats.get(state.open);
  const files = Files.ready();
  if (files === null) { setStatus("Дождитесь, пока загрузятся файлы."); return; }
  if ((!text && files.length === 0) || !chat) return;
  const cid = crypto.randomUUID();
  state.pending.set(cid, { chat: chat.id, text, files });
  chat.sent.set(cid, { text, files });
  const element = messageElement({ chat: chat.id, from: state.me.id, text, files });
  element.classList.add("pending");
  element.dataset.cid = cid;
  $("messages").append(element);
  scrollToEnd();
  send(sendFrame(chat.id, cid, text, files));
  Files.clear();
  input.value = "";
  input.focus();
});

// Attaching: the button, dropping files on the chat, pasting an image into the message.
$("attach").addEventListener("click", () => $("file-input").click());
$("file-input").addEventListener("change", (event) => {
  if (state.open) Files.add(state.open, [...event.target.files]);
  event.target.value = "";
});
$("chat").addEventListener("dragover", (event) => { if (state.open && !$("composer").hidden) event.preventDefault(); });
$("chat").addEventListener("drop", (event) => {
  if (!state.open || $("composer").hidden || !event.dataTransfer?.files.length) return;
  event.preventDefault();
  Files.add(state.open, [...event.dataTransfer.files]);
});
$("composer-text").addEventListener("paste", (event) => {
  const files = [...(event.clipboardData?.files ?? [])];
  if (!state.open || files.length === 0) return;
  event.preventDefault();
  Files.add(state.open, files);
});

$("composer-text").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("composer").requestSubmit();
    return;
  }
  const now = Date.now();
  if (state.open && now - state.lastTypingSent > 2000) {
    state.lastTypingSent = now;
    send({ type: "typing", chat: state.open });
  }
});

function showTyping(chatID, person) {
  if (person === state.me.id) return;
  const people = state.typing.get(chatID) ?? new Map();
  state.typing.set(chatID, people);
  clearTimeout(people.get(person));
  people.set(person, setTimeout(() => clearTyping(chatID, person), 4000));
  renderTyping();
}

function clearTyping(chatID, person) {
  const people = state.typing.get(chatID);
  if (!people?.has(person)) return;
  clearTimeout(people.get(person));
  people.delete(person);
  renderTyping();
}

function renderTyping() {
  const people = [...(state.typing.get(state.open)?.keys() ?? [])].map(nameOf);
  $("typing").textContent = people.length === 0 ? "" : `${people.join(", ")} ${people.length === 1 ? "печатает" : "печатают"}…`;
}

// A sign-in link opened in a tab already on this page changes only the hash: start over with it.
window.addEventListener("hashchange", () => { if (location.hash.startsWith("#invite=")) location.reload(); });

start();
