// Switchboard console: a small page over the Graph API and the extension
// API, reached through /console/api/ with the session's token (which the
// browser never sees). Everything the page shows is set with textContent:
// no data ever becomes HTML.
"use strict";

const state = { session: null, events: null, view: null, reloadTimer: 0 };

// el builds an element: el("td", {class: "x"}, "text", child, ...).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "onclick" || k === "onsubmit") e[k] = v;
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function show(...nodes) {
  const main = document.getElementById("main");
  main.replaceChildren(...nodes);
}

// api calls an API through the console and returns the parsed body, or
// throws an Error whose message is the API's.
async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (method !== "GET" && state.session) headers["X-CSRF-Token"] = state.session.csrfToken;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch("/console/api" + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  if (resp.status === 401) { state.session = null; route(); throw new Error("Signed out."); }
  const text = await resp.text();
  const data = text ? JSON.parse(text) : null;
  if (!resp.ok) throw new Error((data && data.error && data.error.message) || resp.status + " " + resp.statusText);
  return data;
}

function identityName(set) {
  if (!set) return "";
  for (const kind of ["user", "phone", "application", "applicationInstance", "guest"]) {
    const id = set[kind];
    if (id) return id.displayName ? id.displayName + " (" + kind + " " + (id.id || "") + ")" : kind + " " + (id.id || "");
  }
  return "";
}

function age(iso) {
  if (!iso) return "";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min";
  return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
}

function stateBadge(s) { return el("span", { class: "state " + (s || "") , "data-state": s || "" }, s || "—"); }

function resultText(r) {
  if (!r) return "";
  const link = el("a", { href: "result-codes.html#" + r.code + "-" + (r.subcode || 0), target: "_blank", rel: "noopener" }, r.code + "/" + (r.subcode || 0));
  return el("span", {}, link, r.message ? " " + r.message : "");
}

// --- sign-in ---------------------------------------------------------

function signInPage(message) {
  const err = el("p", { class: "error", role: "alert" }, message || "");
  const form = el("form", { class: "signin card" },
    el("h1", {}, "Sign in"),
    el("p", { class: "muted" }, "Sign in as an application. An application that holds Switchboard.Admin sees every call of its tenant; any other sees its own calls."),
    el("label", { for: "tenant" }, "Tenant id"), el("input", { id: "tenant", name: "tenant", required: true, autocomplete: "off" }),
    el("label", { for: "client" }, "Client id"), el("input", { id: "client", name: "client", required: true, autocomplete: "off" }),
    el("label", { for: "secret" }, "Client secret"), el("input", { id: "secret", name: "secret", type: "password", autocomplete: "off" }),
    el("label", { for: "assertion" }, "…or a client assertion (a JWT signed with the application's certificate)"), el("textarea", { id: "assertion", name: "assertion" }),
    err,
    el("button", { type: "submit" }, "Sign in"));
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const body = { tenantId: form.tenant.value.trim(), clientId: form.client.value.trim(), clientSecret: form.secret.value, clientAssertion: form.assertion.value.trim() };
    const resp = await fetch("/console/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "same-origin" });
    const data = await resp.json();
    if (!resp.ok) { err.textContent = data.error ? data.error.message : "Sign-in failed."; return; }
    state.session = data;
    signedIn();
  };
  show(form);
}

async function signOut() {
  await fetch("/console/session", { method: "DELETE", headers: { "X-CSRF-Token": state.session.csrfToken }, credentials: "same-origin" });
  state.session = null;
  if (state.events) { state.events.close(); state.events = null; }
  document.getElementById("who").hidden = true;
  signInPage("Signed out.");
}

function signedIn() {
  const s = state.session;
  document.getElementById("who").hidden = false;
  document.getElementById("who-app").textContent = "Application " + s.clientId + " · tenant " + s.tenantId + (s.admin ? " · admin" : "") + (s.dev ? " · development mode" : "");
  listen();
  route();
}

// --- live updates ----------------------------------------------------

function listen() {
  if (state.events) state.events.close();
  const live = document.getElementById("live");
  const es = new EventSource("/console/events");
  es.onopen = () => { live.textContent = "Live: the page updates as calls change."; };
  es.onerror = () => { live.textContent = "Reconnecting…"; };
  es.addEventListener("call", (m) => { const e = JSON.parse(m.data); if (state.view && state.view.onEvent) state.view.onEvent(e); });
  es.addEventListener("reload", () => { if (state.view && state.view.reload) state.view.reload(); });
  es.addEventListener("signedOut", () => { es.close(); state.session = null; signInPage("The session ended; sign in again."); });
  state.events = es;
}

// soon runs f once, shortly, however many events ask for it.
function soon(f) {
  clearTimeout(state.reloadTimer);
  state.reloadTimer = setTimeout(f, 150);
}

// --- the calls list --------------------------------------------------

async function callsPage() {
  const tbody = el("tbody");
  const table = el("table", { id: "calls" },
    el("thead", {}, el("tr", {}, ["Application", "Tenant", "Direction", "State", "Parties", "Age", "Result"].map((h) => el("th", {}, h)))),
    tbody);
  const note = el("p", { class: "muted" });
  show(el("h1", {}, "Calls"), note, table);
  const load = async () => {
    let data;
    try { data = await api("GET", "/switchboard/v1/calls?$top=200"); } catch (e) { note.textContent = e.message; return; }
    note.textContent = data.value.length ? "Live and recent calls, newest first." : "No calls yet. Create one with your bot, or place an incoming call.";
    tbody.replaceChildren(...data.value.map((c) => {
      const tr = el("tr", { class: "row", "data-call-id": c.id },
        el("td", {}, c.applicationId), el("td", {}, c.tenantId), el("td", {}, c.direction || ""),
        el("td", {}, stateBadge(c.state)), el("td", {}, (c.parties || []).map(identityName).join(", ")),
        el("td", { title: c.createdDateTime || "" }, age(c.createdDateTime)), el("td", {}, resultText(c.resultInfo)));
      tr.onclick = () => { location.hash = "#/calls/" + encodeURIComponent(c.id); };
      return tr;
    }));
  };
  state.view = { onEvent: () => soon(load), reload: load };
  await load();
}

// --- one call --------------------------------------------------------

async function callPage(id) {
  const head = el("div", { class: "card grid" });
  const roster = el("tbody");
  const timeline = el("ol", { class: "timeline" });
  const log = el("tbody");
  const msg = el("p", { class: "error", role: "alert" });
  show(el("p", {}, el("a", { href: "#/" }, "← All calls")),
    el("h1", {}, "Call ", el("code", {}, id)), msg, head,
    el("h2", {}, "Participants"),
    el("table", { id: "roster" }, el("thead", {}, el("tr", {}, ["Participant", "State", "Muted", "On hold", "Sharing"].map((h) => el("th", {}, h)))), roster),
    el("h2", {}, "State timeline"), el("div", { class: "card" }, timeline),
    el("h2", {}, "Notifications"),
    el("table", { id: "notifications" }, el("thead", {}, el("tr", {}, ["#", "Change", "Status", "Attempts", "Last error", "Body", ""].map((h) => el("th", {}, h)))), log));

  const load = async () => {
    try {
      const c = await api("GET", "/switchboard/v1/calls/" + encodeURIComponent(id));
      head.replaceChildren(
        el("div", {}, el("span", {}, "State"), stateBadge(c.state)),
        el("div", {}, el("span", {}, "Direction"), c.direction || ""),
        el("div", {}, el("span", {}, "Application"), c.applicationId),
        el("div", {}, el("span", {}, "Tenant"), c.tenantId),
        el("div", {}, el("span", {}, "Created"), c.createdDateTime || ""),
        el("div", {}, el("span", {}, "Result"), resultText(c.resultInfo) || "—"));
      const people = c.roster || [];
      roster.replaceChildren(...people.map((p) => el("tr", { "data-participant-id": p.id },
        el("td", {}, identityName(p.identity) || p.id), el("td", {}, stateBadge(p.state)),
        el("td", {}, p.muted ? "muted" : ""), el("td", {}, p.onHold ? "on hold" : ""), el("td", {}, p.sharing ? "sharing" : ""))));
    } catch (e) { msg.textContent = e.message; }
    try {
      const page = await api("GET", "/switchboard/v1/calls/" + encodeURIComponent(id) + "/notifications?$top=1000");
      timeline.replaceChildren(...page.value.filter((n) => n.body).map((n) => {
        const st = stateOf(n.body);
        return st ? el("li", {}, stateBadge(st), " ", el("span", { class: "muted" }, n.createdDateTime || "")) : null;
      }).filter(Boolean));
      log.replaceChildren(...page.value.map((n) => {
        const replay = el("button", { class: "secondary", type: "button" }, "Replay");
        replay.onclick = async () => {
          try { await api("POST", "/switchboard/v1/calls/" + encodeURIComponent(id) + "/notifications/replay", { fromSequence: n.sequence }); msg.textContent = ""; replay.textContent = "Queued"; }
          catch (e) { msg.textContent = e.message; }
        };
        return el("tr", { "data-sequence": n.sequence },
          el("td", {}, n.sequence), el("td", {}, (n.changeType || "") + " " + (stateOf(n.body) || "")),
          el("td", {}, stateBadge(n.status)), el("td", {}, n.attempts), el("td", {}, n.lastError || ""),
          el("td", {}, el("details", {}, el("summary", {}, "body"), el("pre", {}, JSON.stringify(n.body, null, 2)))),
          el("td", {}, replay));
      }));
    } catch (e) { msg.textContent = e.message; }
  };
  state.view = { onEvent: (e) => { if (e.callId === id || e.conversationId) soon(load); }, reload: load };
  await load();
}

// stateOf reads the call state a notification body carries, if any.
function stateOf(body) {
  const v = body && body.value && body.value[0];
  return v && v.resourceData && !Array.isArray(v.resourceData) ? v.resourceData.state : "";
}

// --- routing ---------------------------------------------------------

function route() {
  if (!state.session) return;
  const m = location.hash.match(/^#\/calls\/(.+)$/);
  if (m) callPage(decodeURIComponent(m[1]));
  else callsPage();
}

window.addEventListener("hashchange", route);
document.getElementById("sign-out").onclick = signOut;

(async function start() {
  const resp = await fetch("/console/session", { credentials: "same-origin" });
  if (resp.ok) { state.session = await resp.json(); signedIn(); }
  else signInPage();
})();
