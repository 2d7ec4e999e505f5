// The admin console's rating views: registration progress rolled up from the live weekly rating, and the dashboard
// of the rating's trend (GET /v1/ratings/weekly/trend) drawn as SVG lines, with the week's ranking and its CSV.
"use strict";

const Dashboard = {
  svgNS: "http://www.w3.org/2000/svg",
  metrics: {
    score: ["Балл", 100], schoolsShare: ["Доля зарегистрированных школ", 1], teachersShare: ["Доля зарегистрированных учителей", 1],
    teachersActiveShare: ["Доля активных учителей", 1], schoolsActiveShare: ["Доля школ, где пишут учителя", 1],
  },
  colors: ["#1d4ed8", "#b45309", "#047857", "#be123c", "#6d28d9", "#0e7490", "#4d7c0f", "#9f1239"],

  // Registration below a region or municipality, from the week in progress: schools and teachers registered of
  // listed per unit, the units with unregistered schools first.
  async progress(scope, level) {
    const params = new URLSearchParams({ week: Session.isoWeek(new Date()), level, ...scope });
    const rating = await Session.api(`/v1/ratings/weekly?${params}`);
    const items = [...rating.items].sort((a, b) =>
      (a.schoolsRegistered / (a.schoolsListed || 1)) - (b.schoolsRegistered / (b.schoolsListed || 1)) || a.name.localeCompare(b.name, "ru"));
    const total = (key) => items.reduce((sum, item) => sum + item[key], 0);
    return h("section", { class: "panel", "aria-label": "Регистрация" },
      h("h3", { text: "Регистрация (текущая неделя)" }),
      UI.bar("Школы зарегистрированы", total("schoolsRegistered"), total("schoolsListed")),
      UI.bar("Учителя зарегистрированы", total("teachersRegistered"), total("teachersListed")),
      h("p", { class: "note", text: `Учеников зарегистрировано: ${total("studentsRegistered")}, родителей: ${total("guardiansRegistered")}. Сначала — где меньше зарегистрированных школ.` }),
      UI.table(level === "school" ? "Школы" : "Муниципалитеты", ["Название", "Школы", "Учителя"], items.map((item) => [
        item.name, UI.bar("Школы", item.schoolsRegistered, item.schoolsListed), UI.bar("Учителя", item.teachersRegistered, item.teachersListed),
      ])));
  },

  // The dashboard: filters, the trend chart and the ranking of the chosen week with its change since the week before.
  async show(container, me) {
    const lastWeek = Session.isoWeek(new Date(Date.now() - 7 * 86400000));
    const form = h("form", { class: "filters", id: "dashboard-form", "aria-label": "Параметры рейтинга" },
      UI.field({ name: "week", label: "Неделя", type: "week", value: lastWeek, max: Session.isoWeek(new Date()) }),
      UI.field({ name: "level", label: "Уровень", options: Dashboard.levels(me) }),
      me.role === "ministry" ? UI.field({ name: "region", label: "Регион (код)", maxlength: 2, placeholder: "для муниципалитетов и школ" }) : null,
      UI.field({ name: "metric", label: "Показатель", options: Object.entries(Dashboard.metrics).map(([key, [text]]) => [key, text]) }),
      h("div", { class: "actions" }, h("button", { type: "submit", text: "Показать" }),
        h("button", { type: "button", class: "secondary", id: "dashboard-csv", text: "Скачать CSV" })));
    const output = h("div", { id: "dashboard-output", "aria-live": "polite" });
    container.replaceChildren(h("h2", { text: "Рейтинг и динамика" }), form, output);
    const values = () => Object.fromEntries([...form.querySelectorAll("input, select")].map((control) => [control.name, control.value.trim()]));
    const query = () => {
      const { week, level, region } = values();
      const params = new URLSearchParams({ week, level });
      if (region) params.set("region", region);
      return params;
    };
    const render = async () => {
      output.replaceChildren(h("p", { class: "note", text: "Загрузка…" }));
      const trend = await Session.api(`/v1/ratings/weekly/trend?${query()}&weeks=12`);
      output.replaceChildren(Dashboard.chart(trend, values().metric), Dashboard.ranking(trend));
    };
    form.addEventListener("submit", (event) => { event.preventDefault(); act(render); });
    form.querySelector("select[name=metric]").addEventListener("change", () => act(render));
    $("dashboard-csv").addEventListener("click", () => act(async () => {
      UI.download(`rating-${values().week}-${values().level}.csv`, await Session.api(`/v1/ratings/weekly?${query()}`, { accept: "text/csv" }), "text/csv");
    }));
    await render();
  },

  levels(me) {
    const all = [["region", "Регионы"], ["municipality", "Муниципалитеты"], ["school", "Школы"]];
    return me.role === "municipal_admin" ? all.slice(1).reverse() : all;
  },

  // Lines of one metric over the weeks for the first eight units by rank, with a legend and a text alternative.
  chart(trend, metric) {
    const [title, top] = Dashboard.metrics[metric];
    const items = trend.items.slice(0, 8);
    const width = 720, height = 300, left = 48, right = 16, topGap = 16, bottom = 40;
    const x = (index) => left + (index * (width - left - right)) / Math.max(1, trend.weeks.length - 1);
    const y = (value) => topGap + (1 - value / top) * (height - topGap - bottom);
    const svg = Dashboard.svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "trend",
      "aria-label": `${title} по неделям ${trend.weeks[0]}–${trend.weeks.at(-1)}: ` +
        items.map((item) => `${item.name} — ${Dashboard.format(item.points.at(-1)?.[metric], top)}`).join("; ") });
    for (let step = 0; step <= 4; step++) {
      const value = (top * step) / 4;
      svg.append(Dashboard.svg("line", { x1: left, x2: width - right, y1: y(value), y2: y(value), class: "grid" }),
        Dashboard.text(Dashboard.format(value, top), { x: left - 6, y: y(value), "text-anchor": "end", "dominant-baseline": "central" }));
    }
    trend.weeks.forEach((week, index) => {
      if (index % 2 === trend.weeks.length % 2 || index === trend.weeks.length - 1) {
        svg.append(Dashboard.text(week.slice(5), { x: x(index), y: height - bottom + 18, "text-anchor": "middle" }));
      }
    });
    items.forEach((item, index) => {
      const points = item.points.map((point) => [x(trend.weeks.indexOf(point.week)), y(point[metric])]);
      svg.append(Dashboard.svg("polyline", { points: points.map((p) => p.join(",")).join(" "), stroke: Dashboard.colors[index], class: "line" }));
      for (const [px, py] of points) svg.append(Dashboard.svg("circle", { cx: px, cy: py, r: 3, fill: Dashboard.colors[index] }));
    });
    // Colours through the CSSOM: the page's Content-Security-Policy refuses inline style attributes.
    const legend = h("ul", { class: "legend" }, items.map((item, index) => {
      const swatch = h("span", { class: "swatch" });
      swatch.style.background = Dashboard.colors[index];
      return h("li", {}, swatch, item.name);
    }));
    return h("figure", { class: "chart" }, svg, legend,
      h("figcaption", { text: `${title} за ${trend.weeks.length} недель${trend.partial ? " (последняя неделя ещё идёт)" : ""}. ${trend.formula}` }));
  },

  // The newest week ranked, with the change of score and place since the week before.
  ranking(trend) {
    const week = trend.weeks.at(-1), before = trend.weeks.at(-2);
    const rows = trend.items.map((item) => {
      const now = item.points.find((point) => point.week === week);
      const then = item.points.find((point) => point.week === before);
      const scoreChange = now && then ? now.score - then.score : null;
      const rankChange = now && then ? then.rank - now.rank : null;
      return [String(now?.rank ?? "—"), item.name, now ? now.score.toFixed(2) : "—",
        scoreChange === null ? "—" : `${scoreChange >= 0 ? "+" : "−"}${Math.abs(scoreChange).toFixed(2)}`,
        rankChange === null || rankChange === 0 ? "—" : rankChange > 0 ? `▲ ${rankChange}` : `▼ ${-rankChange}`];
    });
    return UI.table(`Рейтинг за неделю ${week} и изменение к ${before ?? "—"}`, ["Место", "Название", "Балл", "Изменение балла", "Изменение места"], rows);
  },

  format(value, top) {
    if (value === undefined) return "—";
    return top === 1 ? `${Math.round(value * 100)} %` : value.toFixed(0);
  },

  svg(name, attributes) {
    const node = document.createElementNS(Dashboard.svgNS, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    return node;
  },

  text(content, attributes) {
    const node = Dashboard.svg("text", { class: "axis", ...attributes });
    node.textContent = content;
    return node;
  },
};
