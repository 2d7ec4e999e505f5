// The admin console's rollover into the next school year (issue 20): a dry run shows the whole plan — classes moved
// up, classes graduating, people leaving, chats archived, assignments cleared — and only then may it be applied.
"use strict";

const Rollover = {
  section(item, { nextYear, afterApply }) {
    const fields = [
      UI.field({ name: "from", label: "Из учебного года", value: nextYear.from, required: true }),
      UI.field({ name: "to", label: "В учебный год", value: nextYear.to, required: true }),
      UI.field({ name: "ninth", label: "9-е классы тоже выпускаются", type: "checkbox" }),
    ];
    const [from, to, ninth] = fields.map((field) => field.querySelector("input"));
    const preview = UI.h("div", { id: "rollover-preview", "aria-live": "polite" });
    const error = UI.h("p", { class: "error", role: "alert" });
    const check = UI.h("button", { type: "button", id: "rollover-check", text: "Проверить (без записи)" });
    const apply = UI.h("button", { type: "button", id: "rollover-apply", class: "secondary danger", disabled: true, text: "Перевести" });
    const body = (dryRun) => ({
      from: from.value.trim(), to: to.value.trim(), dryRun, graduatingGrades: ninth.checked ? [9, 11] : [11],
    });
    const send = (dryRun) => Session.api(`/v1/schools/${item.data.id}/rollover`, { method: "POST", body: body(dryRun) });
    const run = async (work) => {
      error.textContent = "";
      try { await work(); } catch (problem) { error.textContent = problem.message; }
    };
    // Any change of the years or grades asks for a new check before applying.
    for (const input of [from, to, ninth]) input.addEventListener("input", () => { apply.disabled = true; });
    check.addEventListener("click", () => run(async () => {
      apply.disabled = true;
      preview.replaceChildren(Rollover.report(await send(true), "Проверка без записи: так пройдёт перевод"));
      apply.disabled = false;
    }));
    apply.addEventListener("click", () => run(async () => {
      if (!confirm(`Перевести школу из ${from.value} в ${to.value}? Выпускники покинут школу.`)) return;
      const plan = await send(false);
      await afterApply();
      document.getElementById("view").prepend(Rollover.report(plan, "Школа переведена в новый учебный год"));
    }));
    return UI.h("section", { class: "panel", "aria-label": "Новый учебный год" }, UI.h("h3", { text: "Новый учебный год" }),
      UI.h("p", { text: "Классы переходят в следующую параллель с чатами и историей; выпускники покидают школу, их чаты " +
        "архивируются; назначения учителей, кроме классного руководства, снимаются." }),
      UI.h("div", { class: "inline-form" }, ...fields, check, apply, error), preview);
  },

  report(plan, title) {
    const rows = [
      ...plan.classes.map((c) => ["переходит", `${c.from} → ${c.to}`]),
      ...plan.graduated.map((c) => ["выпускается", c.name]),
      ...plan.leaving.map((p) => ["покидает школу", `${p.name} (${p.role === "student" ? "ученик" : "родитель"})`]),
      ...plan.archivedChats.map((c) => ["чат в архив", c.title]),
      ...(plan.clearedAssignments.length ? [["снимаются назначения учителей", `${plan.clearedAssignments.length} (кроме классных руководителей)`]] : []),
    ];
    return UI.h("div", { class: "rollover-report" }, UI.h("h4", { text: title }),
      rows.length ? UI.table("План перевода", ["Что", "Кто или что"], rows) :
        UI.h("p", { class: "ok", text: "Нечего переводить: классов этого учебного года нет (школа уже переведена)." }));
  },
};
