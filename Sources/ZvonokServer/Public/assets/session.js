// The signed-in person's token (kept in localStorage) and calls to the HTTP API, shared by both pages.
"use strict";

const Session = {
  key: "zvonok.token",

  get token() { return localStorage.getItem(this.key); },
  set token(value) {
    if (value) localStorage.setItem(this.key, value); else localStorage.removeItem(this.key);
  },

  roleNames: {
    ministry: "министерство", regional_admin: "администратор региона", municipal_admin: "администратор округа",
    school_admin: "администратор школы", teacher: "учитель", student: "ученик", guardian: "родитель",
  },

  // Readable Russian for the contract's error codes; the server's own message goes to the console.
  errorTexts: {
    invalid_argument: "Неверные данные.", not_found: "Не найдено.", forbidden: "Нет доступа.",
    unauthenticated: "Войдите заново.", conflict: "Конфликт с текущими данными.",
    rate_limited: "Слишком много попыток, подождите минуту.", unavailable: "Сервер временно недоступен.",
    not_listed: "Школа не внесла вас в список Звонка с этой учётной записью. Попросите у классного руководителя или "
      + "администратора школы код приглашения, введите его и войдите ещё раз — код нужен только один раз.",
  },

  // Calls the API with the token; resolves to the parsed JSON (or text), rejects with an Error carrying `code`.
  async api(path, { method = "GET", body, accept = "application/json" } = {}) {
    const headers = { Accept: accept };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw Object.assign(new Error("Нет связи с сервером."), { code: "network" });
    }
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      const code = problem.error?.code ?? "unavailable";
      console.warn(path, response.status, problem.error?.message);
      throw Object.assign(new Error(this.errorTexts[code] ?? "Ошибка."), { code, status: response.status, detail: problem.error?.message });
    }
    if (response.status === 204) return null;
    return accept === "application/json" ? response.json() : response.text();
  },

  // Uses an invite code once and keeps the token it gives.
  async activate(code) {
    const answer = await this.api(`/v1/invites/${encodeURIComponent(code.trim())}/activate`, { method: "POST", body: {} });
    this.token = answer.token;
    return answer;
  },

  // Sign-in through the state's identity provider (ESIA through a gateway), when the server offers it.
  providerKey: "zvonok.provider-sign-in",

  async providerSettings() { return this.api("/v1/oidc").catch(() => ({ enabled: false })); },

  // Leaves for the provider; an invite code typed beside the button goes along, to link the account the first time.
  async startProviderSignIn(inviteCode) {
    const answer = await this.api("/v1/oidc/start", { method: "POST", body: { redirectUri: `${location.origin}/` } });
    sessionStorage.setItem(this.providerKey, JSON.stringify({ state: answer.state, inviteCode: inviteCode || null }));
    location.assign(answer.authorizationUrl);
  },

  // Back from the provider (`?code=…&state=…`, or `?error=…`): the query leaves the address bar at once, the state
  // must be the one this tab started with, and the token is kept. Null when the page was not opened by the provider.
  async finishProviderSignIn() {
    const query = new URLSearchParams(location.search);
    if (!query.has("state")) return null;
    history.replaceState(null, "", location.pathname);
    const started = JSON.parse(sessionStorage.getItem(this.providerKey) ?? "null");
    sessionStorage.removeItem(this.providerKey);
    if (query.has("error")) throw new Error(`Вход не состоялся: ${query.get("error_description") ?? query.get("error")}`);
    if (!started || started.state !== query.get("state")) throw new Error("Этот вход начат не здесь: начните заново.");
    const body = { code: query.get("code") ?? "", state: started.state };
    if (started.inviteCode) body.inviteCode = started.inviteCode;
    const answer = await this.api("/v1/oidc/finish", { method: "POST", body });
    this.token = answer.token;
    return answer;
  },

  // An invite code from a sign-in link (`#invite=CODE`), removed from the address bar once read.
  takeInviteFromLink() {
    const match = location.hash.match(/^#invite=([^&]+)/);
    if (!match) return null;
    history.replaceState(null, "", location.pathname + location.search);
    return decodeURIComponent(match[1]);
  },

  // Fills the header with who is signed in.
  showWho(me) {
    const name = document.getElementById("who-name");
    name.textContent = `${me.name} · ${this.roleNames[me.role] ?? me.role}`;
  },

  // The ISO week ("2026-W47") of a moment in Moscow time (UTC+3), as the API counts weeks.
  isoWeek(moment) {
    const day = new Date(moment.getTime() + 3 * 3600 * 1000);
    const date = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()));
    const weekday = date.getUTCDay() || 7;
    date.setUTCDate(date.getUTCDate() + 4 - weekday);
    const yearStart = new Date(Date.UTC(date.getUTCFullYear(), 0, 1));
    const week = Math.ceil(((date - yearStart) / 86400000 + 1) / 7);
    return `${date.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
  },

  isOverseer(role) { return ["ministry", "regional_admin", "municipal_admin", "school_admin"].includes(role); },
};
