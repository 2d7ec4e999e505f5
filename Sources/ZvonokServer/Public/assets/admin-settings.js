// The admin console's school settings: the school's quiet hours (issue 18) and what happens to the messages of a
// person erased (issue 20). Each is read from the server, shown as it stands and saved on its own.
"use strict";

const SchoolSettings = {
  // Who quiet hours may cover, as the server names them.
  roles: [["student", "ученики"], ["guardian", "родители"], ["teacher", "учителя"]],

  async section(item) {
    const id = item.data.id;
    const [hours, erasure] = await Promise.all([
      Session.api(`/v1/schools/${id}/quiet-hours`), Session.api(`/v1/schools/${id}/erasure`),
    ]);
    return UI.h("section", { class: "panel", "aria-label": "Настройки школы" }, UI.h("h3", { text: "Настройки школы" }),
      SchoolSettings.quietHours(id, hours), SchoolSettings.erasure(id, erasure));
  },

  quietHours(id, hours) {
    const fields = [
      UI.field({ name: "from", label: "Тишина с", type: "time", value: hours.from, required: true }),
      UI.field({ name: "to", label: "до", type: "time", value: hours.to, required: true }),
      ...SchoolSettings.roles.map(([role, label]) => UI.field({ name: role, label, type: "checkbox" })),
    ];
    const [from, to, ...covered] = fields.map((field) => field.querySelector("input"));
    covered.forEach((input, index) => { input.checked = hours.applies.includes(SchoolSettings.roles[index][0]); });
    return SchoolSettings.saved("quiet", "Часы тишины",
      "В эти часы сообщения приходят в открытое приложение, но уведомления выбранным ролям придут одним сообщением, " +
      "когда тишина закончится (по времени региона). Срочное сообщение администратора приходит сразу.",
      fields, () => Session.api(`/v1/schools/${id}/quiet-hours`, {
        method: "PUT",
        body: { from: from.value, to: to.value, applies: SchoolSettings.roles.map(([role]) => role).filter((_, index) => covered[index].checked) },
      }));
  },

  erasure(id, policy) {
    const field = UI.field({ name: "deleteMessages", label: "Удалять и сообщения удалённых пользователей", type: "checkbox" });
    const input = field.querySelector("input");
    input.checked = policy.deleteMessages;
    return SchoolSettings.saved("erasure", "Удаление персональных данных",
      "Данные ушедших из школы стираются по истечении срока (по умолчанию 30 дней). Их сообщения по умолчанию остаются в истории чатов с подписью " +
      "«Удалённый пользователь»; отметьте, чтобы удалялись и они.",
      [field], () => Session.api(`/v1/schools/${id}/erasure`, { method: "PUT", body: { deleteMessages: input.checked } }));
  },

  // A block of settings with its own "Сохранить" button (id `${key}-save`) and a line saying how the save went.
  saved(key, title, explanation, fields, save) {
    const status = UI.h("p", { id: `${key}-status`, role: "status" });
    const button = UI.h("button", { type: "button", id: `${key}-save`, text: "Сохранить" });
    button.addEventListener("click", async () => {
      status.className = "";
      status.textContent = "";
      try {
        await save();
        status.textContent = "Сохранено";
      } catch (problem) {
        status.className = "error";
        status.textContent = problem.message;
      }
    });
    return UI.h("div", { class: "settings", "aria-label": title }, UI.h("h4", { text: title }), UI.h("p", { text: explanation }),
      UI.h("div", { class: "inline-form" }, ...fields, button), status);
  },
};
