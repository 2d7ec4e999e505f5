// The rating page: GET /v1/ratings/weekly as a table sorted by rank and a bar chart of scores, and its CSV.
"use strict";

const $ = (id) => document.getElementById(id);
const svgNS = "http://www.w3.org/2000/svg";
const levelNames = { region: "регионов", municipality: "муниципалитетов", school: "школ" };

function query() {
  const params = new URLSearchParams({ week: $("week").value, level: $("level").value });
  const region = $("region").value.trim();
  if (region) params.set("region", region);
  return `/v1/ratings/weekly?${params}`;
}

async function start() {
  const invite = Session.takeInviteFromLink();
  if (invite) await Session.activate(invite).catch((error) => { $("rating-error").textContent = error.message; });
  let me = null;
  if (Session.token) me = await Session.api("/v1/me").catch(() => null);
  if (!me || !Session.isOverseer(me.role)) {
    $("token-form-section").hidden = false;
    if (me) $("rating-error").textContent = "Рейтинг доступен министерству и администраторам.";
    $("token").focus();
    return;
  }
  Session.showWho(me);
  $("rating-section").hidden = false;
  $("week").value = Session.isoWeek(new Date(Date.now() - 7 * 86400000));
  $("week").max = Session.isoWeek(new Date());
  if (me.regionCode) $("region").value = me.regionCode;
  if (me.role !== "ministry") $("level").value = me.role === "school_admin" ? "school" : "municipality";
  await show();
}

async function show() {
  $("rating-error").textContent = "";
  try {
    const rating = await Session.api(query());
    render(rating);
  } catch (error) {
    $("rating-error").textContent = error.message;
  }
}

function render(rating) {
  $("rating-title").textContent = `Рейтинг ${levelNames[rating.level]} за неделю ${rating.week}`;
  $("rating-note").textContent = (rating.partial ? "Неделя ещё идёт: данные неполные. " : "") +
    (rating.items.length === 0 ? "Нет данных для выбранных условий." : `Строк: ${rating.items.length}.`);
  const rows = $("rating-rows");
  rows.replaceChildren();
  for (const item of [...rating.items].sort((a, b) => a.rank - b.rank)) {
    const row = document.createElement("tr");
    const cells = [
      item.rank, item.name, item.score.toFixed(2), percent(item.schoolsShare), percent(item.teachersShare),
      percent(item.teachersActiveShare), percent(item.teachersEngagedShare), percent(item.schoolsActiveShare), item.messages,
    ];
    cells.forEach((value, index) => {
      const cell = document.createElement(index === 1 ? "th" : "td");
      if (index === 1) cell.scope = "row";
      if (index > 1) cell.className = "num";
      cell.textContent = value;
      row.append(cell);
    });
    rows.append(row);
  }
  $("formula").textContent = `Формула балла — ${rating.formula}`;
  $("rating-table").hidden = rating.items.length === 0;
  renderChart(rating);
}

function percent(share) {
  return `${(share * 100).toLocaleString("ru-RU", { maximumFractionDigits: 1 })} %`;
}

// Horizontal bars of the scores (0–100), at most the first 30 by rank; the table holds every row.
function renderChart(rating) {
  const items = [...rating.items].sort((a, b) => a.rank - b.rank).slice(0, 30);
  $("chart-figure").hidden = items.length === 0;
  if (items.length === 0) return;
  // Drawn at the container's own width, so that the text stays at its CSS size on a phone and on a wide screen.
  const width = Math.max(300, $("chart").clientWidth), labelWidth = Math.min(260, Math.round(width * 0.4));
  const barHeight = 22, gap = 8, valueWidth = 64, maxChars = Math.floor(labelWidth / 8.5);
  const height = items.length * (barHeight + gap) + gap;
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Баллы: ${items.map((item) => `${item.name} — ${item.score.toFixed(2)}`).join("; ")}`);
  const scale = (width - labelWidth - valueWidth) / 100;
  items.forEach((item, index) => {
    const y = gap + index * (barHeight + gap);
    const label = element("text", { x: labelWidth - 8, y: y + barHeight / 2, "text-anchor": "end", "dominant-baseline": "central", class: "label" });
    label.textContent = item.name.length > maxChars ? `${item.name.slice(0, maxChars - 1)}…` : item.name;
    const bar = element("rect", { x: labelWidth, y, width: Math.max(1, item.score * scale), height: barHeight, rx: 3, class: "bar" });
    const value = element("text", { x: labelWidth + item.score * scale + 6, y: y + barHeight / 2, "dominant-baseline": "central", class: "value" });
    value.textContent = item.score.toFixed(2);
    svg.append(label, bar, value);
  });
  $("chart").replaceChildren(svg);
}

function element(name, attributes) {
  const node = document.createElementNS(svgNS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

async function downloadCSV() {
  try {
    const csv = await Session.api(query(), { accept: "text/csv" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
    link.download = `rating-${$("week").value}-${$("level").value}.csv`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  } catch (error) {
    $("rating-error").textContent = error.message;
  }
}

$("rating-form").addEventListener("submit", (event) => { event.preventDefault(); show(); });
$("level").addEventListener("change", show);
$("download").addEventListener("click", downloadCSV);
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  Session.token = $("token").value.trim();
  location.reload();
});

start();
