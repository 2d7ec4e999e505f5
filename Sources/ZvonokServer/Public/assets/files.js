// Files in chats (issue 17): picking, dropping and pasting files, uploading each with a progress bar, and showing the
// files of messages — photo previews with a full-size view, voice notes and videos played in place, and chips that
// download. Files are fetched with the bearer token and shown from blob: URLs (an <img src> cannot carry a token).
"use strict";

const Files = {
  tray: [],          // {key, file, id, progress, error}: this chat's attachments, before they are sent
  urls: new Map(),   // path → blob: URL, fetched once
  uploading: 0,

  // Starts uploading the files to the chat; each shows in the tray with its progress.
  add(chatID, files) {
    for (const file of files) {
      const item = { key: crypto.randomUUID(), file, id: null, progress: 0, error: null };
      this.tray.push(item);
      this.upload(chatID, item);
    }
    this.renderTray();
  },

  upload(chatID, item) {
    const request = new XMLHttpRequest();
    request.open("POST", `/v1/chats/${encodeURIComponent(chatID)}/files?name=${encodeURIComponent(item.file.name || "image.png")}`);
    request.setRequestHeader("Authorization", `Bearer ${Session.token}`);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) { item.progress = event.loaded / event.total; this.renderTray(); }
    });
    request.addEventListener("loadend", () => {
      this.uploading -= 1;
      let answer = {};
      try { answer = JSON.parse(request.responseText); } catch { /* not JSON */ }
      if (request.status === 201) {
        item.id = answer.id;
        item.answer = answer;
        item.progress = 1;
      } else {
        const code = answer.error?.code;
        item.error = { unsupported_media_type: "Такие файлы не принимаются", payload_too_large: "Файл слишком большой",
          rate_limited: "Дневной лимит загрузок исчерпан" }[code] ?? Session.errorTexts[code] ?? "Не удалось загрузить";
      }
      this.renderTray();
    });
    this.uploading += 1;
    request.send(item.file);
  },

  // The uploaded attachments as messages carry them, or null while some are still uploading.
  ready() { return this.uploading > 0 ? null : this.tray.filter((item) => item.id).map((item) => item.answer); },

  clear() { this.tray = []; this.renderTray(); },

  renderTray() {
    const list = $("attachments");
    list.replaceChildren(...this.tray.map((item) => {
      const entry = document.createElement("li");
      entry.className = `attachment${item.error ? " failed" : ""}`;
      entry.dataset.id = item.id ?? "";
      const name = document.createElement("span");
      name.textContent = item.error ? `${item.file.name}: ${item.error}` : item.file.name;
      const bar = document.createElement("progress");
      bar.max = 1;
      bar.value = item.progress;
      bar.hidden = Boolean(item.error);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.setAttribute("aria-label", `Убрать ${item.file.name}`);
      remove.addEventListener("click", () => { this.tray = this.tray.filter((other) => other !== item); this.renderTray(); });
      entry.append(name, bar, remove);
      return entry;
    }));
    list.hidden = this.tray.length === 0;
  },

  // The files of a message, or null.
  render(files) {
    if (!files?.length) return null;
    const box = document.createElement("div");
    box.className = "files";
    for (const file of files) box.append(this.fileElement(file));
    return box;
  },

  fileElement(file) {
    if (file.preview) {
      const image = document.createElement("img");
      image.className = "preview";
      image.alt = file.name;
      image.dataset.file = file.id;
      if (file.width && file.height) { image.width = Math.min(240, file.width); image.style.aspectRatio = `${file.width} / ${file.height}`; }
      this.url(`/v1/files/${file.id}/preview`).then((url) => { image.src = url; }, () => { image.alt = `${file.name} (не загрузилось)`; });
      image.addEventListener("click", () => this.view(file));
      return image;
    }
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "file-chip";
    chip.dataset.file = file.id;
    const playable = file.type.startsWith("audio/") || file.type.startsWith("video/");
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = playable ? "▶" : (file.name.includes(".") ? file.name.split(".").pop().slice(0, 4).toUpperCase() : "ФАЙЛ");
    chip.append(badge, ` ${file.name} · ${this.size(file.size)}`);
    chip.addEventListener("click", () => (playable ? this.play(file, chip) : this.download(file)));
    return chip;
  },

  // Plays a voice note or a video where its chip was.
  async play(file, chip) {
    const player = document.createElement(file.type.startsWith("audio/") ? "audio" : "video");
    player.controls = true;
    player.dataset.file = file.id;
    player.src = await this.url(`/v1/files/${file.id}`);
    chip.replaceWith(player);
    player.play().catch(() => {});
  },

  async download(file) {
    const link = document.createElement("a");
    link.href = await this.url(`/v1/files/${file.id}`);
    link.download = file.name;
    document.body.append(link);
    link.click();
    link.remove();
  },

  // The full-size photo over the page; Escape or a click closes it.
  async view(file) {
    const viewer = $("viewer");
    const image = viewer.querySelector("img");
    image.alt = file.name;
    image.src = await this.url(`/v1/files/${file.id}`);
    viewer.showModal();
  },

  async url(path) {
    if (!this.urls.has(path)) {
      const response = await fetch(path, { headers: { Authorization: `Bearer ${Session.token}` } });
      if (!response.ok) throw new Error(`${response.status}`);
      this.urls.set(path, URL.createObjectURL(await response.blob()));
    }
    return this.urls.get(path);
  },

  size(bytes) {
    if (bytes < 1024) return `${bytes} Б`;
    if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} КБ`;
    return `${(bytes / 1024 / 1024).toFixed(1)} МБ`;
  },
};
