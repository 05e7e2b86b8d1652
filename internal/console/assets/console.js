// Switchboard console: a small page over the Graph API and the extension
// API, reached through /console/api/ with the session's token (which the
// browser never sees). Everything the page shows is set with textContent:
// no data ever becomes HTML.
"use strict";

const state = { session: null, events: null, view: null, reloadTimer: 0, speaking: new Map() };

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

// api sends a request to the Graph or extension API through the console
// and returns the parsed body, or throws an Error whose message is the
// API's. body is JSON, or a Blob (a File) sent as it is with its own type.
async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (method !== "GET" && state.session) headers["X-CSRF-Token"] = state.session.csrfToken;
  const raw = body instanceof Blob;
  if (body !== undefined) headers["Content-Type"] = raw ? (body.type || "application/octet-stream") : "application/json";
  const resp = await fetch("/console/api" + path, { method, headers, body: body === undefined || raw ? body : JSON.stringify(body), credentials: "same-origin" });
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
  document.getElementById("nav-identities").hidden = !s.admin;
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
  es.addEventListener("call", (m) => {
    const e = JSON.parse(m.data);
    browserCallEvent(e);
    if (state.view && state.view.onEvent) state.view.onEvent(e);
  });
  es.addEventListener("ring", (m) => ringEvent(JSON.parse(m.data)));
  es.addEventListener("speaking", (m) => {
    const e = JSON.parse(m.data);
    let set = state.speaking.get(e.conversationId);
    if (!set) state.speaking.set(e.conversationId, set = new Set());
    if (e.speaking) set.add(e.participantId); else set.delete(e.participantId);
    if (!set.size) state.speaking.delete(e.conversationId);
    if (state.view && state.view.onSpeaking) state.view.onSpeaking(e);
  });
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
  show(el("h1", {}, "Calls"), state.session.admin ? reachableCard() : null, state.session.admin ? browserCallCard() : null,
    state.session.admin ? placeIncomingForm() : null, note, table);
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

// --- calling from the browser (WebRTC) --------------------------------

// browserCallCard lets you call an application from this browser, with
// your microphone: the bot gets an incoming call from the identity you
// choose, and you hear it.
function browserCallCard() {
  const bc = state.browserCall;
  const status = el("p", { id: "bc-status", class: "muted" }, bc ? bc.status : "Not in a call.");
  const audio = el("audio", { id: "bc-audio", autoplay: true });
  if (bc && bc.stream) audio.srcObject = bc.stream;
  const keypad = el("div", { id: "bc-keypad", class: "actions", hidden: !bc },
    [..."123456789*0#"].map((k) => {
      const b = el("button", { class: "secondary", type: "button", "data-key": k }, k);
      // insertDTMF replaces the keys still queued: add to them instead.
      b.onclick = () => { const c = state.browserCall; if (c && c.dtmf) c.dtmf.insertDTMF(c.dtmf.toneBuffer + k, 120, 80); };
      return b;
    }));
  const hangUp = el("button", { id: "bc-hangup", type: "button", hidden: !bc }, "Hang up");
  hangUp.onclick = () => endBrowserCall(true);
  const mute = el("button", { id: "bc-mute", class: "secondary", type: "button", hidden: !bc }, bc && bc.muted ? "Unmute" : "Mute");
  mute.onclick = () => muteBrowser();
  const form = el("form", { id: "browser-call", class: "card" },
    el("h2", {}, "Call from this browser"),
    el("p", { class: "muted" }, "Your microphone goes into the call and you hear it. Call an application (it sees an incoming call from the user you name), or join a live meeting by its join id."),
    el("div", { class: "grid" },
      el("div", {}, el("label", { for: "bc-mode" }, "What to do"), el("select", { id: "bc-mode", name: "mode" },
        el("option", { value: "call" }, "Call an application"), el("option", { value: "join" }, "Join a meeting"))),
      el("div", {}, el("label", { for: "bc-app" }, "Application (client id)"), el("input", { id: "bc-app", name: "app", value: state.session.clientId })),
      el("div", {}, el("label", { for: "bc-meeting" }, "Meeting join id"), el("input", { id: "bc-meeting", name: "meeting" })),
      el("div", {}, el("label", { for: "bc-passcode" }, "Meeting passcode"), el("input", { id: "bc-passcode", name: "passcode" })),
      el("div", {}, el("label", { for: "bc-user" }, "Call as user id"), el("input", { id: "bc-user", name: "user", value: "browser-user", required: true })),
      el("div", {}, el("label", { for: "bc-name" }, "Display name"), el("input", { id: "bc-name", name: "name", value: "Me, in the browser" })),
      el("div", {}, el("label", { for: "bc-callback" }, "Callback URI (default: the application's webhook)"), el("input", { id: "bc-callback", name: "callback" }))),
    el("p", { class: "actions" }, el("button", { id: "bc-call", type: "submit", hidden: !!bc }, "Call"), hangUp, mute), keypad, status, audio);
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    try { await startBrowserCall(form); } catch (e) { setBrowserStatus("Call failed: " + e.message); endBrowserCall(false); }
  };
  return form;
}

function setBrowserStatus(text, callId) {
  if (state.browserCall) state.browserCall.status = text;
  const st = document.getElementById("bc-status");
  if (!st) return;
  st.textContent = text + " ";
  if (callId) { st.dataset.callId = callId; st.append(el("a", { href: "#/calls/" + encodeURIComponent(callId) }, "Open the call")); }
}

// newBrowserPeer opens the microphone and a peer connection with every
// candidate gathered in its offer, and shows the call's controls.
async function newBrowserPeer() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
  const pc = new RTCPeerConnection({ iceServers: [] });
  const bc = { pc, mic: stream, status: "Calling…" };
  state.browserCall = bc;
  for (const t of stream.getAudioTracks()) bc.dtmf = pc.addTrack(t, stream).dtmf;
  pc.ontrack = (e) => {
    bc.stream = e.streams[0] || new MediaStream([e.track]);
    const a = document.getElementById("bc-audio");
    if (a) a.srcObject = bc.stream;
  };
  pc.onconnectionstatechange = () => { if (pc.connectionState === "failed") { setBrowserStatus("The connection failed."); endBrowserCall(false); } };
  for (const [id, hidden] of [["bc-call", true], ["bc-hangup", false], ["bc-mute", false], ["bc-keypad", false]]) {
    const e = document.getElementById(id);
    if (e) e.hidden = hidden;
  }
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => {
    if (pc.iceGatheringState === "complete") return done();
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === "complete") done(); };
  });
  return { pc, bc };
}

async function startBrowserCall(form) {
  const joining = form.mode.value === "join";
  setBrowserStatus(joining ? "Joining…" : "Calling…");
  const { pc, bc } = await newBrowserPeer();
  const identity = { user: { id: form.user.value.trim(), displayName: form.name.value.trim() || undefined } };
  const body = joining
    ? { joinMeetingId: form.meeting.value.trim(), passcode: form.passcode.value, identity, offer: pc.localDescription.sdp }
    : { applicationId: form.app.value.trim(), identity, offer: pc.localDescription.sdp };
  if (!joining && form.callback.value.trim()) body.callbackUri = form.callback.value.trim();
  const resp = await fetch("/console/webrtc/" + (joining ? "join" : "call"), { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": state.session.csrfToken }, body: JSON.stringify(body) });
  const data = await resp.json();
  if (!resp.ok) throw new Error(data.error ? data.error.message : resp.status + " " + resp.statusText);
  bc.placed = data;
  await pc.setRemoteDescription({ type: "answer", sdp: data.answer });
  if (joining) setBrowserStatus("In the meeting.");
  else setBrowserStatus("Ringing the application…", data.callId);
}

// muteBrowser mutes or unmutes the microphone, and the participant in
// the call (Graph shows it muted).
async function muteBrowser() {
  const bc = state.browserCall;
  if (!bc || !bc.placed) return;
  const muted = !bc.muted;
  const resp = await fetch("/console/webrtc/mute", { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": state.session.csrfToken }, body: JSON.stringify({ participantId: bc.placed.participantId, muted }) });
  if (!resp.ok) return;
  bc.muted = muted;
  for (const t of bc.mic.getAudioTracks()) t.enabled = !muted;
  const b = document.getElementById("bc-mute");
  if (b) { b.textContent = muted ? "Unmute" : "Mute"; b.dataset.muted = String(muted); }
}

// browserCallEvent follows the browser's call in the live events.
function browserCallEvent(e) {
  const bc = state.browserCall;
  if (!bc || !bc.placed || (e.callId !== bc.placed.callId && e.conversationId !== bc.placed.conversationId)) return;
  if (e.state === "established") setBrowserStatus("In the call.", e.callId);
  else if (e.state === "terminated") { setBrowserStatus("The call ended.", e.callId); endBrowserCall(false); }
}

async function endBrowserCall(tell) {
  const bc = state.browserCall;
  if (!bc) return;
  state.browserCall = null;
  if (tell && bc.placed) {
    await fetch("/console/webrtc/hangUp", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": state.session.csrfToken }, body: JSON.stringify({ participantId: bc.placed.participantId }) });
    setBrowserStatus("You hung up.", bc.placed.callId || undefined);
  }
  bc.pc.close();
  for (const t of bc.mic.getTracks()) t.stop();
  for (const [id, hidden] of [["bc-call", false], ["bc-hangup", true], ["bc-mute", true], ["bc-keypad", true]]) {
    const e = document.getElementById(id);
    if (e) e.hidden = hidden;
  }
}

// reachableCard lets this browser take an identity: calls to that user
// ring here, to answer or decline.
function reachableCard() {
  const status = el("p", { id: "rc-status", class: "muted" }, state.reachable ? "Calls to user " + state.reachable + " ring here." : "Calls to no one ring here.");
  const ring = el("div", { id: "rc-ring", hidden: !state.ringing });
  const form = el("form", { id: "reachable", class: "card" },
    el("h2", {}, "Take calls in this browser"),
    el("p", { class: "muted" }, "Take the identity of a user of your tenant: when a bot calls that user, the call rings here."),
    el("div", { class: "grid" },
      el("div", {}, el("label", { for: "rc-user" }, "User id"), el("input", { id: "rc-user", name: "user", value: state.reachable || "" }))),
    el("p", { class: "actions" }, el("button", { id: "rc-take", type: "submit" }, "Take calls for this user"),
      el("button", { id: "rc-stop", class: "secondary", type: "button" }, "Stop")),
    status, ring);
  const post = async (userId) => {
    const resp = await fetch("/console/webrtc/reachable", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": state.session.csrfToken }, body: JSON.stringify({ userId }) });
    if (!resp.ok) { status.textContent = "Failed: " + resp.status; return; }
    state.reachable = userId || null;
    status.textContent = userId ? "Calls to user " + userId + " ring here." : "Calls to no one ring here.";
  };
  form.onsubmit = (ev) => { ev.preventDefault(); post(form.user.value.trim()); };
  form.querySelector("#rc-stop").onclick = () => post("");
  if (state.ringing) showRing(state.ringing);
  return form;
}

// ringEvent shows or hides a call ringing this browser.
function ringEvent(r) {
  if (r.kind === "ring") { state.ringing = r; showRing(r); }
  else if (r.kind === "ringEnded" && state.ringing && state.ringing.participantId === r.participantId) {
    state.ringing = null;
    const box = document.getElementById("rc-ring");
    if (box) { box.hidden = true; box.replaceChildren(); }
    const st = document.getElementById("rc-status");
    if (st) st.textContent = "The call stopped ringing.";
  }
}

function showRing(r) {
  const box = document.getElementById("rc-ring");
  if (!box) return;
  const answer = el("button", { id: "rc-answer", type: "button" }, "Answer");
  const decline = el("button", { id: "rc-decline", class: "secondary", type: "button" }, "Decline");
  answer.onclick = async () => {
    state.ringing = null;
    box.hidden = true;
    try { await answerRing(r); } catch (e) { setBrowserStatus("Answering failed: " + e.message); endBrowserCall(false); }
  };
  decline.onclick = async () => {
    state.ringing = null;
    box.hidden = true;
    await fetch("/console/webrtc/decline", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": state.session.csrfToken }, body: JSON.stringify({ participantId: r.participantId }) });
    const st = document.getElementById("rc-status");
    if (st) st.textContent = "You declined the call.";
  };
  box.replaceChildren(el("p", { class: "ring" }, "Incoming call from " + (identityName(r.from) || "someone")), el("p", { class: "actions" }, answer, decline));
  box.hidden = false;
  const st = document.getElementById("rc-status");
  if (st) st.textContent = "Ringing…";
}

// answerRing answers a ringing call with this browser's microphone.
async function answerRing(r) {
  const { pc, bc } = await newBrowserPeer();
  const resp = await fetch("/console/webrtc/answer", { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": state.session.csrfToken }, body: JSON.stringify({ participantId: r.participantId, offer: pc.localDescription.sdp }) });
  const data = await resp.json();
  if (!resp.ok) throw new Error(data.error ? data.error.message : resp.status + " " + resp.statusText);
  bc.placed = { participantId: r.participantId, conversationId: r.conversationId };
  await pc.setRemoteDescription({ type: "answer", sdp: data.answer });
  setBrowserStatus("In the call.");
}

// placeIncomingForm makes a simulated caller (a user or a phone number)
// call an application, as Graph would deliver an incoming call.
function placeIncomingForm() {
  const err = el("p", { class: "error", role: "alert" });
  const form = el("form", { id: "place-incoming", class: "card" },
    el("h2", {}, "Place an incoming call"),
    el("div", { class: "grid" },
      el("div", {}, el("label", { for: "in-app" }, "To application (client id)"), el("input", { id: "in-app", name: "app", value: state.session.clientId, required: true })),
      el("div", {}, el("label", { for: "in-kind" }, "From"), el("select", { id: "in-kind", name: "kind" }, el("option", { value: "user" }, "a user"), el("option", { value: "phone" }, "a phone number"))),
      el("div", {}, el("label", { for: "in-from" }, "User id or number"), el("input", { id: "in-from", name: "from", required: true, placeholder: "+15550100" })),
      el("div", {}, el("label", { for: "in-name" }, "Display name"), el("input", { id: "in-name", name: "name" })),
      el("div", {}, el("label", { for: "in-callback" }, "Callback URI (default: the application's webhook)"), el("input", { id: "in-callback", name: "callback" })),
      el("div", {}, el("label", { for: "in-meeting" }, "Meeting join id (an invitation to a meeting)"), el("input", { id: "in-meeting", name: "meeting" })),
      el("div", {}, el("label", { for: "in-passcode" }, "Meeting passcode"), el("input", { id: "in-passcode", name: "passcode" }))),
    err, el("p", {}, el("button", { type: "submit" }, "Place call")));
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const who = { id: form.from.value.trim() };
    if (form.name.value.trim()) who.displayName = form.name.value.trim();
    const body = { to: { applicationId: form.app.value.trim() }, from: { [form.kind.value]: who } };
    if (form.callback.value.trim()) body.callbackUri = form.callback.value.trim();
    if (form.meeting.value.trim()) {
      body.meetingInfo = { "@odata.type": "#microsoft.graph.joinMeetingIdMeetingInfo", joinMeetingId: form.meeting.value.trim() };
      if (form.passcode.value) body.meetingInfo.passcode = form.passcode.value;
    }
    try {
      const placed = await api("POST", "/switchboard/v1/simulation/incomingCalls", body);
      location.hash = "#/calls/" + encodeURIComponent(placed.callId);
    } catch (e) { err.textContent = e.message; }
  };
  return form;
}

// --- one call --------------------------------------------------------

async function callPage(id) {
  const head = el("div", { id: "call-head", class: "card grid" });
  const roster = el("tbody");
  const timeline = el("ol", { class: "timeline" });
  const ops = el("tbody");
  const log = el("tbody");
  const msg = el("p", { class: "error", role: "alert" });
  // Nodes the page keeps across reloads (players, inputs being filled in),
  // by key: a reload must not stop a recording playing or lose a file.
  const kept = new Map();
  const keep = (key, make) => { if (!kept.has(key)) kept.set(key, make()); return kept.get(key); };
  show(el("p", {}, el("a", { href: "#/" }, "← All calls")),
    el("h1", {}, "Call ", el("code", {}, id)), msg, head,
    el("h2", {}, "Participants"),
    el("table", { id: "roster" }, el("thead", {}, el("tr", {}, ["Participant", "Speaking", "State", "Muted", "On hold", "Sharing", state.session.admin ? "Act as them" : ""].map((h) => el("th", {}, h)))), roster),
    el("h2", {}, "Operations"),
    el("table", { id: "operations" }, el("thead", {}, el("tr", {}, ["Operation", "Type", "Status", "Client context", "Result", "Recording"].map((h) => el("th", {}, h)))), ops),
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
      ops.replaceChildren(...(c.operations || []).map((o) => el("tr", { "data-operation-id": o.id },
        el("td", {}, el("code", {}, o.id)), el("td", {}, o.type), el("td", {}, stateBadge(o.status.toLowerCase())),
        el("td", {}, o.clientContext || ""), el("td", {}, resultText(o.resultInfo)),
        el("td", {}, o.recordingLocation ? keep("rec:" + o.id, () => recordingPlayer(o, msg, kept)) : null))));
      if (!ops.children.length) ops.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "No operations.")));
      const people = c.roster || [];
      conversationId = c.conversationId;
      const speakers = state.speaking.get(conversationId) || new Set();
      roster.replaceChildren(...people.map((p) => el("tr", { "data-participant-id": p.id },
        el("td", {}, identityName(p.identity) || p.id), speakingCell(speakers.has(p.id) && p.state !== "left"), el("td", {}, stateBadge(p.state)),
        el("td", {}, p.muted ? "muted" : ""), el("td", {}, p.onHold ? "on hold" : ""), el("td", {}, p.sharing ? "sharing" : ""),
        el("td", {}, state.session.admin && !p.callId && p.state !== "left" ? actions(id, p, msg, load, keep) : null))));
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
  let conversationId = "";
  const onSpeaking = (e) => {
    if (e.conversationId !== conversationId) return;
    const row = roster.querySelector(`tr[data-participant-id="${CSS.escape(e.participantId)}"]`);
    if (row) row.children[1].replaceWith(speakingCell(e.speaking));
  };
  state.view = { onEvent: (e) => { if (e.callId === id || e.conversationId) soon(load); }, onSpeaking, reload: load };
  await load();
}

// speakingCell shows whether a participant is speaking now (the media
// engine's voice activity, sent live).
function speakingCell(on) {
  return el("td", { class: "speaking", "data-speaking": on ? "true" : "false" }, on ? el("span", { class: "speaking-now" }, "speaking") : "");
}

// recordingPlayer is a button that fetches a recordResponse's recording
// (with its own access token, as a bot would) and plays it in the page.
function recordingPlayer(o, msg, kept) {
  const b = el("button", { class: "secondary", type: "button", "data-action": "playRecording" }, "Play recording");
  b.onclick = async () => {
    try {
      const resp = await fetch("/console/api" + new URL(o.recordingLocation).pathname,
        { headers: { "Authorization": "Bearer " + o.recordingAccessToken }, credentials: "same-origin" });
      if (!resp.ok) throw new Error("The recording could not be fetched: " + resp.status + " " + resp.statusText + " (recordings are kept for media.recordingRetention).");
      const audio = el("audio", { controls: true, class: "recording" });
      audio.src = URL.createObjectURL(await resp.blob());
      b.replaceWith(audio);
      kept.set("rec:" + o.id, audio);
      audio.play().catch(() => {});
    } catch (e) { msg.textContent = e.message; }
  };
  return b;
}

// actions are the buttons that make simulated participant p of call id
// act now, a keypad, a WAV file to say, and what they heard.
function actions(id, p, msg, reload, keep) {
  const base = "/switchboard/v1/simulation/calls/" + encodeURIComponent(id) + "/participants/" + encodeURIComponent(p.id);
  const act = (label, action) => {
    const b = el("button", { class: "secondary", type: "button", "data-action": action }, label);
    b.onclick = async () => {
      try { await api("POST", base + "/" + action); msg.textContent = ""; reload(); } catch (e) { msg.textContent = e.message; }
    };
    return b;
  };
  const keys = keep("keys:" + p.id, () => el("input", { class: "keys", placeholder: "keys, e.g. 12#", size: 8, "aria-label": "DTMF keys" }));
  const press = el("button", { class: "secondary", type: "button", "data-action": "pressTones" }, "Press");
  press.onclick = async () => {
    try { await api("POST", base + "/pressTones", { keys: keys.value, outOfBand: true }); msg.textContent = ""; keys.value = ""; } catch (e) { msg.textContent = e.message; }
  };
  const out = [];
  if (p.state === "invited") out.push(act("Answer", "answer"), act("Reject", "reject"));
  else {
    out.push(act("Hang up", "hangUp"), p.muted ? act("Unmute", "unmute") : act("Mute", "mute"), p.sharing ? act("Stop sharing", "stopSharing") : act("Share screen", "shareScreen"));
    out.push(keys, press);
    const wav = keep("wav:" + p.id, () => el("input", { type: "file", accept: ".wav,audio/wav", class: "wav", "aria-label": "WAV file to say" }));
    const say = el("button", { class: "secondary", type: "button", "data-action": "say" }, "Say");
    say.onclick = async () => {
      const f = wav.files[0];
      if (!f) { msg.textContent = "Choose a WAV file for them to say."; return; }
      try { await api("POST", base + "/say", new Blob([f], { type: "audio/wav" })); msg.textContent = ""; } catch (e) { msg.textContent = e.message; }
    };
    const listen = keep("heard:" + p.id, () => el("span", {}, el("button", { class: "secondary", type: "button", "data-action": "heard", title: "The last minute of what they heard" }, "What they heard")));
    const btn = listen.querySelector("button");
    if (btn) btn.onclick = () => {
      const audio = el("audio", { controls: true, class: "recording", src: "/console/api" + base + "/heard?at=" + Date.now() });
      listen.replaceChildren(audio);
      audio.play().catch(() => {});
    };
    out.push(wav, say, listen);
  }
  return el("span", { class: "actions" }, out);
}

// --- simulated identities --------------------------------------------

async function identitiesPage() {
  const tbody = el("tbody");
  const err = el("p", { class: "error", role: "alert" });
  const form = el("form", { id: "identity", class: "card" },
    el("h2", {}, "Set how an identity behaves when called"),
    el("div", { class: "grid" },
      el("div", {}, el("label", { for: "id-id" }, "User id or number"), el("input", { id: "id-id", name: "id", required: true })),
      el("div", {}, el("label", { for: "id-name" }, "Display name"), el("input", { id: "id-name", name: "displayName" })),
      el("div", {}, el("label", { for: "id-behaviour" }, "When called"), el("select", { id: "id-behaviour", name: "behaviour" },
        ["answer", "noAnswer", "busy", "unreachable"].map((b) => el("option", { value: b }, b)))),
      el("div", {}, el("label", { for: "id-after" }, "After (e.g. 2s)"), el("input", { id: "id-after", name: "after" })),
      el("div", {}, el("label", { for: "id-hangup" }, "Hang up after"), el("input", { id: "id-hangup", name: "hangUpAfter" })),
      el("div", {}, el("label", { for: "id-mute" }, "Mute after"), el("input", { id: "id-mute", name: "muteAfter" })),
      el("div", {}, el("label", { for: "id-share" }, "Share screen after"), el("input", { id: "id-share", name: "shareScreenAfter" }))),
    err, el("p", {}, el("button", { type: "submit" }, "Save")));
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const rule = {};
    for (const f of ["displayName", "behaviour", "after", "hangUpAfter", "muteAfter", "shareScreenAfter"]) if (form[f].value.trim()) rule[f] = form[f].value.trim();
    try { await api("PUT", "/switchboard/v1/simulation/identities/" + encodeURIComponent(form.id.value.trim()), rule); err.textContent = ""; load(); } catch (e) { err.textContent = e.message; }
  };
  show(el("h1", {}, "Simulated identities"),
    el("p", { class: "muted" }, "Everyone a call reaches who is not a phone is simulated: by default they answer after a moment. Set how one behaves; it applies to calls from now on."),
    form,
    el("table", { id: "identities" }, el("thead", {}, el("tr", {}, ["Id", "Name", "When called", "After", "Hang up after", "Mute after", "Share after"].map((h) => el("th", {}, h)))), tbody));
  const load = async () => {
    try {
      const data = await api("GET", "/switchboard/v1/simulation/identities");
      tbody.replaceChildren(...data.value.map((r) => el("tr", {}, el("td", {}, r.id), el("td", {}, r.displayName || ""), el("td", {}, r.behaviour || "answer"),
        el("td", {}, r.after || ""), el("td", {}, r.hangUpAfter || ""), el("td", {}, r.muteAfter || ""), el("td", {}, r.shareScreenAfter || ""))));
    } catch (e) { err.textContent = e.message; }
  };
  state.view = null;
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
  else if (location.hash === "#/identities" && state.session.admin) identitiesPage();
  else callsPage();
}

window.addEventListener("hashchange", route);
document.getElementById("sign-out").onclick = signOut;

(async function start() {
  const resp = await fetch("/console/session", { credentials: "same-origin" });
  if (resp.ok) { state.session = await resp.json(); signedIn(); }
  else signInPage();
})();
