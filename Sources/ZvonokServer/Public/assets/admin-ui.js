// The admin console's building blocks: elements, forms, progress bars, and whole lists read page by page.
"use strict";

const UI = {
  // An element with attributes (`on…` are listeners) and children (strings become text, never HTML).
  h(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  },

  uid: 0,
  // A labelled control: { name, label, type?, options?: [[value, text]], required?, value? }.
  field(spec) {
    const id = `f${++UI.uid}`;
    const control = spec.options
      ? UI.h("select", { id, name: spec.name }, spec.options.map(([value, text]) => UI.h("option", { value, text })))
      : UI.h("input", {
          id, name: spec.name, type: spec.type ?? "text", required: spec.required, value: spec.value,
          min: spec.min, max: spec.max, maxlength: spec.maxlength, placeholder: spec.placeholder, autocomplete: "off",
        });
    if (spec.type === "checkbox") return UI.h("div", { class: "field check" }, control, UI.h("label", { for: id, text: spec.label }));
    return UI.h("div", { class: "field" }, UI.h("label", { for: id, text: spec.label }), control);
  },

  // A form whose submit hands `act` the values by name; errors are shown under it, in Russian.
  form(title, fields, submitText, act) {
    const error = UI.h("p", { class: "error", role: "alert" });
    const form = UI.h("form", { class: "inline-form", "aria-label": title },
      UI.h("h4", { text: title }), fields.map(UI.field), UI.h("button", { type: "submit", text: submitText }), error);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const values = {};
      for (const control of form.querySelectorAll("input, select")) {
        values[control.name] = control.type === "checkbox" ? control.checked : control.value.trim();
      }
      try {
        await act(values);
        form.reset();
      } catch (problem) {
        error.textContent = problem.message;
      }
    });
    return form;
  },

  // "12 из 30" with a bar; `label` names what is counted for screen readers.
  bar(label, done, total) {
    const percent = total === 0 ? 0 : Math.round((done / total) * 100);
    return UI.h("div", { class: "progress" },
      UI.h("span", { class: "progress-label", text: label }),
      UI.h("progress", { max: total || 1, value: done, "aria-label": `${label}: ${done} из ${total}` }),
      UI.h("span", { class: "progress-value", text: `${done} из ${total} (${percent} %)` }));
  },

  // A table with a caption, header cells and rows of cells (nodes or text).
  table(caption, headers, rows) {
    return UI.h("div", { class: "table-wrap" },
      UI.h("table", {},
        UI.h("caption", { text: caption }),
        UI.h("thead", {}, UI.h("tr", {}, headers.map((text) => UI.h("th", { scope: "col", text })))),
        UI.h("tbody", {}, rows.map((cells) => UI.h("tr", {}, cells.map((cell) => UI.h("td", {}, cell)))))));
  },

  // Every item of a list endpoint, following `next`.
  async all(path) {
    const items = [];
    let cursor = null;
    do {
      const separator = path.includes("?") ? "&" : "?";
      const page = await Session.api(`${path}${separator}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      items.push(...page.items);
      cursor = page.next;
    } while (cursor);
    return items;
  },

  // Sends a body as it is (a roster file), with the token; resolves to the JSON answer whatever the status.
  async upload(path, body, contentType) {
    const response = await fetch(path, {
      method: "PUT", body, headers: { Authorization: `Bearer ${Session.token}`, "Content-Type": contentType, Accept: "application/json" },
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok && !answer.errors) {
      throw Object.assign(new Error(Session.errorTexts[answer.error?.code] ?? "Ошибка."), { code: answer.error?.code });
    }
    return answer;
  },

  // Offers text as a file to save.
  download(name, text, type) {
    const link = UI.h("a", { href: URL.createObjectURL(new Blob([text], { type })), download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  },

  className(schoolClass) { return `${schoolClass.grade}${schoolClass.letter}`; },
};
