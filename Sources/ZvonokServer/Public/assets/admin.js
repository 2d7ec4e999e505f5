// The admin console, /admin: the structure the signed-in admin may see as a tree, each level's page (people,
// classes, roster upload, invites, registration progress) and the rating dashboard — all through the public API.
"use strict";

const { h } = UI;
const $ = (id) => document.getElementById(id);
const levelNames = { region: "Регион", municipality: "Муниципалитет", school: "Школа", class: "Класс" };
const rosterTemplate = "\uFEFFtype;externalId;name;role;grade;letter;year;class;classes;homeroom;students\r\n" +
  "class;K5A;;;5;А;2026/2027;;;;\r\n" +
  "staff;T1;Иванова Мария Петровна;teacher;;;;;K5A;K5A;\r\n" +
  "student;S1;Петров Пётр;;;;;K5A;;;\r\n" +
  "guardian;G1;Петрова Анна;;;;;;;;S1\r\n";

const state = { me: null, roots: [], selected: null, issued: [] };

// MARK: The tree

// A node of the structure: its kind, API object, children once loaded, and parent.
function node(kind, data, parent) {
  const name = kind === "class" ? `${UI.className(data)} (${data.year})` : data.name;
  return { kind, data, name, parent, children: kind === "class" ? [] : null, open: false };
}

function childrenPath(item) {
  switch (item.kind) {
    case "region": return [`/v1/regions/${item.data.code}/municipalities`, "municipality"];
    case "municipality": return [`/v1/municipalities/${item.data.id}/schools`, "school"];
    case "school": return [`/v1/schools/${item.data.id}/classes`, "class"];
    default: return [null, null];
  }
}

async function loadChildren(item) {
  if (item.children) return item.children;
  const [path, kind] = childrenPath(item);
  item.children = (await UI.all(path)).map((data) => node(kind, data, item));
  return item.children;
}

// The top of what the caller may see: every region for the ministry, else their own region, municipality or school.
async function loadRoots(me) {
  switch (me.role) {
    case "ministry": return (await UI.all("/v1/regions")).map((data) => node("region", data, null));
    case "regional_admin": return [node("region", await Session.api(`/v1/regions/${me.regionCode}`), null)];
    case "municipal_admin": return [node("municipality", await Session.api(`/v1/municipalities/${me.municipalityId}`), null)];
    default: return [node("school", await Session.api(`/v1/schools/${me.schoolId}`), null)];
  }
}

function matches(item, text) {
  if (!text) return true;
  if (item.name.toLowerCase().includes(text)) return true;
  return (item.children ?? []).some((child) => matches(child, text));
}

function renderTree() {
  const text = $("tree-search").value.trim().toLowerCase();
  const list = (items) => h("ul", { role: "group" }, items.filter((item) => matches(item, text)).map((item) => {
    const expanded = item.kind !== "class" && (item.open || (text && item.children?.length));
    return h("li", {},
      h("button", {
        type: "button", class: "node", "aria-current": state.selected === item ? "true" : null,
        "aria-expanded": item.kind === "class" ? null : String(Boolean(expanded)),
        onclick: () => select(item, { toggle: true }),
      }, h("span", { class: "kind", text: levelNames[item.kind] }), " ", item.name),
      expanded && item.children ? list(item.children) : null);
  }));
  $("tree").replaceChildren(...list(state.roots).childNodes);
}

// Opens a place's page; from the tree a second press folds it, and focus stays in the tree.
async function select(item, { toggle = false } = {}) {
  $("error").textContent = "";
  try {
    if (state.selected !== item) $("notices").replaceChildren();
    if (toggle && state.selected === item) item.open = !item.open;
    else item.open = true;
    state.selected = item;
    if (item.kind !== "class") await loadChildren(item);
    renderTree();
    await show(item);
    if (!toggle) $("main").focus();
  } catch (error) {
    $("error").textContent = error.message;
  }
}

// MARK: Pages of each level

async function show(item) {
  const view = $("view");
  view.replaceChildren(h("p", { class: "note", text: "Загрузка…" }));
  const parts = await ({ region: regionPage, municipality: municipalityPage, school: schoolPage, class: classPage })[item.kind](item);
  const path = [];
  for (let at = item; at; at = at.parent) path.unshift(at);
  view.replaceChildren(
    h("nav", { class: "crumbs", "aria-label": "Путь" }, path.map((at, index) =>
      index === path.length - 1 ? h("span", { text: at.name }) : h("button", { type: "button", class: "link", text: at.name, onclick: () => select(at) }))),
    h("h2", { id: "page-title", text: `${levelNames[item.kind]}: ${item.name}` }),
    ...parts.filter(Boolean));
}

function section(title, ...children) {
  return h("section", { class: "panel", "aria-label": title }, h("h3", { text: title }), ...children);
}

// A list of places one level down, each opening its page, and the form that adds one.
function childList(item, form) {
  const items = item.children ?? [];
  return [
    items.length === 0 ? h("p", { class: "note", text: "Пока ничего нет." }) :
      h("ul", { class: "links" }, items.map((child) => h("li", {}, h("button", { type: "button", class: "link", text: child.name, onclick: () => select(child) })))),
    form,
  ];
}

async function afterCreate(item, data, kind) {
  item.children = [...(item.children ?? []), node(kind, data, item)];
  renderTree();
  await show(item);
}

// The form that adds a municipality or school (a name and an optional external id) below `item`.
function namedChildForm(item, title, path) {
  return UI.form(title, [
    { name: "name", label: "Название", required: true, maxlength: 200 }, { name: "externalId", label: "Внешний код (необязательно)" },
  ], "Создать", async (values) => {
    const body = values.externalId ? { name: values.name, externalId: values.externalId } : { name: values.name };
    await afterCreate(item, await Session.api(path, { method: "POST", body }), childrenPath(item)[1]);
  });
}

// The API path of a place: what PATCH renames and DELETE removes.
function unitPath(item) {
  return item.kind === "region" ? `/v1/regions/${item.data.code}` : `/v1/${item.kind === "class" ? "classes" : `${item.kind}s`}/${item.data.id}`;
}

// Whether the caller may rename and remove the place: the level above it or higher (a class by its school's admins).
function managesUnit(item) {
  const above = {
    region: ["ministry"], municipality: ["regional_admin"], school: ["regional_admin", "municipal_admin"],
    class: ["regional_admin", "municipal_admin", "school_admin"],
  };
  return above[item.kind].includes(state.me.role);
}

// "Переименовать" (PATCH; a class takes a grade and letter such as 5Б) and "Удалить" (DELETE, asked first). The
// server removes only an empty place: its 409 says what must go first, and that is shown as it is.
function unitActions(item) {
  if (!managesUnit(item)) return null;
  const current = item.kind === "class" ? UI.className(item.data) : item.data.name;
  return h("div", { class: "actions" },
    h("button", { type: "button", class: "secondary", text: "Переименовать", onclick: () => act(async () => {
      const name = prompt(item.kind === "class" ? "Новое название класса (например, 5Б)" : "Новое название", current);
      if (!name || name === current) return;
      item.data = await Session.api(unitPath(item), { method: "PATCH", body: { name } });
      item.name = node(item.kind, item.data, item.parent).name;
      renderTree();
      await show(item);
    }) }),
    h("button", { type: "button", class: "secondary danger", text: "Удалить", onclick: () => act(async () => {
      if (!confirm(`Удалить: ${levelNames[item.kind].toLowerCase()} «${item.name}»? Удалить можно только пустое.`)) return;
      try {
        await Session.api(unitPath(item), { method: "DELETE" });
      } catch (error) {
        if (error.code === "conflict" && error.detail) throw new Error(`Нельзя удалить: ${error.detail}`);
        throw error;
      }
      await afterRemove(item);
    }) }));
}

// Takes a removed place out of the tree and opens the place above it.
async function afterRemove(item) {
  if (item.parent) item.parent.children = (item.parent.children ?? []).filter((child) => child !== item);
  else state.roots = state.roots.filter((root) => root !== item);
  state.selected = null;
  renderTree();
  if (item.parent) await select(item.parent);
  else $("view").replaceChildren(h("p", { class: "note", text: "Удалено." }));
}

async function regionPage(item) {
  const code = item.data.code;
  const parts = [
    unitActions(item),
    section("Муниципалитеты", ...childList(item, writes() ? namedChildForm(item, "Новый муниципалитет", `/v1/regions/${code}/municipalities`) : null)),
    await adminsSection(`/v1/regions/${code}/admins`, state.me.role === "ministry"),
  ];
  if (seesRating()) parts.push(await Dashboard.progress({ region: code }, "municipality"));
  return parts;
}

async function municipalityPage(item) {
  const id = item.data.id;
  const parts = [
    unitActions(item),
    section("Школы", ...childList(item, writes() ? namedChildForm(item, "Новая школа", `/v1/municipalities/${id}/schools`) : null)),
    await adminsSection(`/v1/municipalities/${id}/admins`, ["ministry", "regional_admin"].includes(state.me.role)),
  ];
  if (seesRating()) parts.push(await Dashboard.progress({ municipality: id }, "school"));
  return parts;
}

async function schoolPage(item) {
  const id = item.data.id;
  const classes = item.children ?? [];
  const staff = await UI.all(`/v1/schools/${id}/staff`);
  const students = await Promise.all(classes.map((child) => UI.all(`/v1/classes/${child.data.id}/students`)));
  const everyone = [...staff, ...students.flat()];
  return [
    unitActions(item),
    section("Регистрация",
      UI.bar("Сотрудники зарегистрированы", staff.filter((p) => p.registered).length, staff.length),
      ...classes.map((child, index) => UI.bar(`${child.name}: ученики`, students[index].filter((p) => p.registered).length, students[index].length)),
      notYetRegistered(everyone)),
    section("Сотрудники",
      peopleTable("Сотрудники школы", staff, (person) => person.role === "school_admin" ? "администратор" : "учитель"),
      UI.form("Новый сотрудник", [
        { name: "name", label: "ФИО", required: true, maxlength: 200 },
        { name: "role", label: "Роль", options: [["teacher", "учитель"], ["school_admin", "администратор школы"]] },
      ], "Добавить", async (values) => {
        const person = await Session.api(`/v1/schools/${id}/staff`, { method: "POST", body: { name: values.name, role: values.role } });
        issued(person, "");
        await show(item);
      })),
    section("Классы", ...childList(item, UI.form("Новый класс", [
      { name: "grade", label: "Параллель (1–11)", type: "number", min: 1, max: 11, required: true },
      { name: "letter", label: "Буква", required: true, maxlength: 3 },
      { name: "year", label: "Учебный год", value: schoolYear(), required: true },
    ], "Создать", async (values) => {
      const created = await Session.api(`/v1/schools/${id}/classes`, {
        method: "POST", body: { grade: Number(values.grade), letter: values.letter, year: values.year },
      });
      await afterCreate(item, created, "class");
    }))),
    Roster.section(item),
    writes() ? Rollover.section(item, { nextYear: nextYear(), afterApply: () => reloadChildren(item) }) : null,
    writes() ? await SchoolSettings.section(item) : null,
    invitesSection(item, everyone, classes),
  ];
}

async function classPage(item) {
  const id = item.data.id;
  const school = item.parent;
  const [students, teachers, staff] = await Promise.all([
    UI.all(`/v1/classes/${id}/students`), UI.all(`/v1/classes/${id}/teachers`), UI.all(`/v1/schools/${school.data.id}/staff`),
  ]);
  const guardians = await Promise.all(students.map((student) => UI.all(`/v1/students/${student.id}/guardians`)));
  const className = item.name;
  const refresh = () => show(item);
  const moveTargets = (school.children ?? []).filter((other) => other !== item);
  return [
    unitActions(item),
    section("Регистрация",
      UI.bar("Ученики", students.filter((p) => p.registered).length, students.length),
      UI.bar("Родители", guardians.flat().filter((p) => p.registered).length, guardians.flat().length),
      UI.bar("Учителя", teachers.filter((p) => p.registered).length, teachers.length),
      notYetRegistered([...students, ...guardians.flat(), ...teachers])),
    section("Учителя класса",
      UI.table("Учителя класса", ["ФИО", "Классный руководитель", "Действия"], teachers.map((teacher) => [
        teacher.name, teacher.homeroom ? "да" : "нет",
        h("button", { type: "button", class: "secondary", text: "Снять с класса", onclick: () => act(async () => {
          await Session.api(`/v1/classes/${id}/teachers/${teacher.id}`, { method: "DELETE" });
          await refresh();
        }) }),
      ])),
      UI.form("Назначить учителя", [
        { name: "staffId", label: "Сотрудник", options: staff.map((person) => [person.id, person.name]) },
        { name: "homeroom", label: "Классный руководитель", type: "checkbox" },
      ], "Назначить", async (values) => {
        await Session.api(`/v1/classes/${id}/teachers`, { method: "POST", body: { staffId: values.staffId, homeroom: values.homeroom } });
        await refresh();
      })),
    section("Ученики и родители",
      peopleTable(`Ученики ${className}`, students, () => "ученик", (student, index) => [
        h("span", { class: "guardians" }, guardians[index].map((guardian) => `${guardian.name}${guardian.registered ? " ✓" : ""}`).join(", ") || "—"),
        moveTargets.length ? moveControl(student, moveTargets, refresh) : null,
        h("button", { type: "button", class: "secondary", text: "Добавить родителя", onclick: () => act(async () => {
          const name = prompt(`ФИО родителя (${student.name})`);
          if (!name) return;
          issued(await Session.api(`/v1/students/${student.id}/guardians`, { method: "POST", body: { name } }), className);
          await refresh();
        }) }),
      ], refresh),
      UI.form("Новый ученик", [{ name: "name", label: "ФИО", required: true, maxlength: 200 }], "Добавить", async (values) => {
        issued(await Session.api(`/v1/classes/${id}/students`, { method: "POST", body: { name: values.name } }), className);
        await refresh();
      })),
    invitesSection(item, [...students, ...guardians.flat()], [item]),
  ];
}

function moveControl(student, targets, refresh) {
  const id = `move-${student.id}`;
  const choice = h("select", { id }, targets.map((target) => h("option", { value: target.data.id, text: target.name })));
  return h("span", { class: "move" },
    h("label", { for: id, class: "visually-hidden", text: `Перевести ${student.name} в класс` }), choice,
    h("button", { type: "button", class: "secondary", text: "Перевести", onclick: () => act(async () => {
      await Session.api(`/v1/people/${student.id}`, { method: "PATCH", body: { classId: choice.value } });
      await refresh();
    }) }));
}

// People with their registration and the actions on a person's card: new invite, rename, remove.
function peopleTable(caption, people, roleText, extra = () => [], refresh = () => show(state.selected)) {
  return UI.table(caption, ["ФИО", "Роль", "Статус", "Действия"], people.map((person, index) => [
    person.name, roleText(person),
    h("span", { class: person.registered ? "ok" : "pending", text: person.registered ? "зарегистрирован" : "не активировал" }),
    h("span", { class: "actions" },
      ...extra(person, index),
      h("button", { type: "button", class: "secondary", text: "Новое приглашение", onclick: () => act(async () => {
        if (!confirm(`Выдать ${person.name} новый код? Прежний перестанет действовать.`)) return;
        issued(await Session.api(`/v1/people/${person.id}/invite`, { method: "POST", body: {} }), "");
      }) }),
      h("button", { type: "button", class: "secondary", text: "Переименовать", onclick: () => act(async () => {
        const name = prompt("Новое ФИО", person.name);
        if (!name || name === person.name) return;
        await Session.api(`/v1/people/${person.id}`, { method: "PATCH", body: { name } });
        await refresh();
      }) }),
      h("button", { type: "button", class: "secondary danger", text: "Удалить", onclick: () => act(async () => {
        if (!confirm(`Удалить ${person.name}?`)) return;
        await Session.api(`/v1/people/${person.id}`, { method: "DELETE" });
        await refresh();
      }) })),
  ]));
}

function notYetRegistered(people) {
  const waiting = people.filter((person) => !person.registered);
  if (waiting.length === 0) return h("p", { class: "ok", text: "Все зарегистрированы." });
  return h("details", {}, h("summary", { text: `Ещё не активировали приглашение: ${waiting.length}` }),
    h("ul", {}, waiting.map((person) => h("li", { text: `${person.name} (${Session.roleNames[person.role] ?? person.role})` }))));
}

async function adminsSection(path, canCreate) {
  const admins = await UI.all(path);
  return section("Администраторы",
    peopleTable("Администраторы", admins, (person) => Session.roleNames[person.role]),
    canCreate ? UI.form("Новый администратор", [{ name: "name", label: "ФИО", required: true, maxlength: 200 }], "Назначить", async (values) => {
      issued(await Session.api(path, { method: "POST", body: { name: values.name } }), "");
      await show(state.selected);
    }) : null);
}

// MARK: Invites

// Keeps a code the API just returned (shown only now) for the sheet, and says so.
function issued(person, className) {
  state.issued.push({ id: person.id, name: person.name, className, code: person.inviteCode });
  $("notices").append(h("div", { class: "notice" },
    h("strong", { text: `${person.name}: код приглашения ${person.inviteCode}` }),
    h("p", { text: "Код показывается только сейчас; он добавлен в лист приглашений (раздел «Приглашения»)." })));
}

function signInLink(code) { return `${location.origin}/#invite=${encodeURIComponent(code)}`; }

function invitesSection(item, people, classes) {
  const waiting = people.filter((person) => !person.registered);
  const classOf = new Map(classes.map((child) => [child.data.id, child.name]));
  return section("Приглашения",
    h("p", { text: `Коды, выданные в этом окне: ${state.issued.length}. Коды хранятся только на этой странице: сервер их не показывает повторно.` }),
    h("div", { class: "actions" },
      h("button", { type: "button", text: `Новые коды для не активировавших (${waiting.length})`, disabled: waiting.length === 0, onclick: () => act(async () => {
        if (!confirm(`Выдать новые коды ${waiting.length} людям? Прежние коды перестанут действовать.`)) return;
        for (const person of waiting) {
          const answer = await Session.api(`/v1/people/${person.id}/invite`, { method: "POST", body: {} });
          state.issued.push({ id: person.id, name: person.name, className: classOf.get(person.classId) ?? "", code: answer.inviteCode });
        }
        await show(item);
      }) }),
      h("button", { type: "button", class: "secondary", text: "Печать листа приглашений", disabled: state.issued.length === 0, onclick: () => act(printSheet) }),
      h("button", { type: "button", class: "secondary", text: "CSV для рассылки", disabled: state.issued.length === 0, onclick: downloadInvites })));
}

async function printSheet() {
  const entries = state.issued;
  const images = [];
  for (let start = 0; start < entries.length; start += 100) {
    const texts = entries.slice(start, start + 100).map((entry) => signInLink(entry.code));
    const answer = await Session.api("/v1/qr-codes", { method: "POST", body: { texts } }).catch(() => ({ images: texts.map(() => null) }));
    images.push(...answer.images);
  }
  $("invite-sheet").replaceChildren(...entries.map((entry, index) => h("article", { class: "slip" },
    h("div", {},
      h("p", { class: "slip-name", text: entry.name }),
      entry.className ? h("p", { text: `Класс: ${entry.className}` }) : null,
      h("p", {}, "Код приглашения: ", h("strong", { class: "slip-code", text: entry.code })),
      h("p", { class: "slip-link", text: signInLink(entry.code) }),
      h("p", { class: "note", text: "Откройте ссылку или отсканируйте код телефоном; код действует один раз." })),
    images[index] ? h("img", { src: images[index], alt: `QR-код ссылки для ${entry.name}`, width: 120, height: 120 }) : null)));
  $("invite-sheet").hidden = false;
  window.print();
}

function downloadInvites() {
  const quote = (text) => `"${String(text).replaceAll('"', '""')}"`;
  const rows = [["ФИО", "Класс", "Код", "Ссылка"], ...state.issued.map((entry) => [entry.name, entry.className, entry.code, signInLink(entry.code)])];
  UI.download("invites.csv", "\uFEFF" + rows.map((row) => row.map(quote).join(";")).join("\r\n") + "\r\n", "text/csv");
}

// MARK: Roster upload: a dry run, its preview, then the upload

const Roster = {
  actions: { created: "создание", updated: "изменение", unchanged: "без изменений" },

  section(item) {
    const input = h("input", { type: "file", id: "roster-file", accept: ".csv,.json,text/csv,application/json" });
    const drop = h("div", { class: "drop", tabindex: "0", role: "button", text: "Перетащите сюда файл CSV или JSON или нажмите, чтобы выбрать" });
    const preview = h("div", { id: "roster-preview", "aria-live": "polite" });
    const apply = h("button", { type: "button", id: "roster-apply", disabled: true, text: "Применить" });
    let file = null;
    const check = async (chosen) => {
      file = chosen;
      apply.disabled = true;
      preview.replaceChildren(h("p", { class: "note", text: "Проверка…" }));
      const answer = await Roster.send(item, file, true);
      preview.replaceChildren(Roster.report(answer, "Проверка без записи: так пройдёт загрузка"));
      apply.disabled = false;
    };
    input.addEventListener("change", () => input.files[0] && act(() => check(input.files[0])));
    // The drop zone also opens the file picker, by click or by Enter or Space.
    drop.addEventListener("click", () => input.click());
    drop.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
    });
    drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      drop.classList.remove("over");
      if (event.dataTransfer.files[0]) act(() => check(event.dataTransfer.files[0]));
    });
    apply.addEventListener("click", () => act(async () => {
      const answer = await Roster.send(item, file, false);
      const classNames = new Map((item.children ?? []).map((child) => [child.data.id, child.name]));
      for (const invite of answer.invites ?? []) {
        const person = await Session.api(`/v1/people/${invite.id}`);
        state.issued.push({ id: invite.id, name: person.name, className: classNames.get(person.classId) ?? "", code: invite.inviteCode });
      }
      await reloadChildren(item);
      $("view").prepend(Roster.report(answer, "Список загружен"));
    }));
    return section("Загрузка списка (CSV или JSON)",
      h("p", {}, "Сначала файл проверяется без записи: видно, что будет создано, изменено и какие строки отклонены. ",
        h("button", { type: "button", class: "link", text: "Скачать шаблон CSV", onclick: () => UI.download("roster-template.csv", rosterTemplate, "text/csv") })),
      h("label", { for: "roster-file", text: "Файл списка" }), input, drop, preview, apply);
  },

  async send(item, file, dryRun) {
    const type = file.name.toLowerCase().endsWith(".json") ? "application/json" : "text/csv; charset=utf-8";
    return UI.upload(`/v1/schools/${item.data.id}/roster${dryRun ? "?dryRun=true" : ""}`, await file.arrayBuffer(), type);
  },

  report(answer, title) {
    const errors = answer.errors ?? [];
    return h("div", { class: "roster-report" },
      h("h4", { text: title }),
      UI.table("Итог", ["Будет создано / создано", "Изменено", "Без изменений", "Отклонено"],
        [[String(answer.created ?? 0), String(answer.updated ?? 0), String(answer.unchanged ?? 0), String(answer.failed ?? errors.length)]]),
      errors.length ? UI.table("Отклонённые строки", ["Строка", "Причина"], errors.map((error) => [String(error.line), error.message])) :
        h("p", { class: "ok", text: "Ошибок нет." }),
      answer.rows?.length ? h("details", {}, h("summary", { text: `Принятые строки: ${answer.rows.length}` }),
        UI.table("Принятые строки", ["Строка", "Внешний код", "Что будет"],
          answer.rows.map((row) => [String(row.line), row.externalId, Roster.actions[row.action] ?? row.action]))) : null);
  },
};

// MARK: Helpers

// The unit's children and page drawn again after a change made beneath it (a roster upload, a rollover).
async function reloadChildren(item) {
  item.children = null;
  await loadChildren(item);
  renderTree();
  await show(item);
}

// The rollover the console offers: from the current school year to the next.
function nextYear() { const from = schoolYear(), start = Number(from.slice(0, 4)) + 1; return { from, to: `${start}/${start + 1}` }; }
function schoolYear() { const now = new Date(), year = now.getMonth() >= 7 ? now.getFullYear() : now.getFullYear() - 1; return `${year}/${year + 1}`; }
function seesRating() { return ["ministry", "regional_admin", "municipal_admin"].includes(state.me.role); }
// The ministry reads everything and, below the regions it creates, writes nothing but regional admins (contract §1).
function writes() { return state.me.role !== "ministry"; }

async function act(work) {
  $("error").textContent = "";
  try {
    await work();
  } catch (error) {
    $("error").textContent = error.message;
  }
}

function showTab(name) {
  $("tab-structure").setAttribute("aria-selected", String(name === "structure"));
  $("tab-rating").setAttribute("aria-selected", String(name === "rating"));
  $("tree").hidden = $("tree-search").hidden = $("tree-search").previousElementSibling.hidden = name !== "structure";
  if (name === "rating") act(() => Dashboard.show($("view"), state.me));
  else if (state.selected) act(() => show(state.selected));
}

async function start() {
  const invite = Session.takeInviteFromLink();
  if (invite) await Session.activate(invite).catch((error) => { $("sign-in-error").textContent = error.message; });
  const me = Session.token ? await Session.api("/v1/me").catch(() => null) : null;
  if (!me || !Session.isOverseer(me.role)) {
    $("sign-in").hidden = false;
    if (me) $("sign-in-error").textContent = "Консоль доступна администраторам и министерству.";
    $("sign-in-code").focus();
    return;
  }
  state.me = me;
  Session.showWho(me);
  $("sign-out").hidden = false;
  $("console").hidden = false;
  $("tab-rating").hidden = !seesRating();
  await act(async () => {
    state.roots = await loadRoots(me);
    renderTree();
    if (state.roots.length === 1) await select(state.roots[0]);
  });
}

$("tree-search").addEventListener("input", renderTree);
$("tab-structure").addEventListener("click", () => showTab("structure"));
$("tab-rating").addEventListener("click", () => showTab("rating"));
$("sign-out").addEventListener("click", async () => {
  await Session.api("/v1/me/token", { method: "DELETE" }).catch(() => null);
  Session.token = null;
  location.reload();
});
$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("sign-in-code").value.trim();
  try {
    if (/^[0-9A-Z]{4}(-?[0-9A-Z]{4}){4}$/i.test(text)) await Session.activate(text);
    else Session.token = text;
    location.reload();
  } catch (error) {
    $("sign-in-error").textContent = error.message;
  }
});
window.addEventListener("afterprint", () => { $("invite-sheet").hidden = true; });

start();
