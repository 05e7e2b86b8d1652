// A calling bot in Node that answers incoming calls with app-hosted media.
//
// It runs one HTTP server for two things: the incoming-call webhook
// (POST /webhook, where Switchboard sends the call's notifications) and a
// WebSocket server (/media) that Switchboard connects to for the call's
// audio, because the answer's appHostedMediaConfig blob names its URL. When
// the stream starts, the bot speaks a WAV file (by sending its samples),
// then a mark; when the mark comes back, the caller has heard it all, and
// the bot hangs up. Graph requests go through the Graph JS client.
//
//   NODE_EXTRA_CA_CERTS=switchboard-data/dev-ca.pem node examples/node-answer/bot.mjs [--wav greeting.wav]
//
// Options: --server (Switchboard's HTTPS base URL), --port (0: any free
// port), --wav (a 16-bit PCM WAV; without it the bot plays a chime).
import http from "node:http";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { WebSocketServer } from "ws";
import { Client } from "@microsoft/microsoft-graph-client";

const { values: opts } = parseArgs({
  options: {
    server: { type: "string", default: "https://127.0.0.1:8443" },
    port: { type: "string", default: "3978" },
    wav: { type: "string" },
  },
});

// The development application of a Switchboard server in development mode.
// Against Microsoft Graph these would be your bot's registration.
const tenant = "0000000d-0000-4000-8000-000000000001";
const clientId = "0000000d-0000-4000-8000-000000000002";
const clientSecret = "switchboard-dev-secret";

// The audio format the bot asks for in the blob.
const sampleRate = 16000;

if (opts.server.startsWith("https:") && !process.env.NODE_EXTRA_CA_CERTS) {
  console.warn("warning: NODE_EXTRA_CA_CERTS is not set: Node will not trust Switchboard's development CA " +
    "(start the bot with NODE_EXTRA_CA_CERTS=switchboard-data/dev-ca.pem)");
}

// Tokens: the client credentials grant against Switchboard's token service,
// kept until a minute before they expire.
let token = { value: "", expires: 0 };
async function accessToken() {
  if (Date.now() < token.expires) return token.value;
  const url = `${opts.server}/${tenant}/oauth2/v2.0/token`;
  const res = await fetch(url, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: clientId,
      client_secret: clientSecret,
      scope: "https://graph.microsoft.com/.default",
    }),
  }).catch((err) => {
    throw new Error(`token request to ${url}: ${describe(err)}`);
  });
  if (!res.ok) throw new Error(`token request: ${res.status} ${await res.text()}`);
  const body = await res.json();
  token = { value: body.access_token, expires: Date.now() + (Number(body.expires_in) - 60) * 1000 };
  return token.value;
}

// The Graph JS client sends the token only over https, and only to the hosts
// in customHosts (the host without the port).
const graph = Client.init({
  baseUrl: opts.server + "/",
  defaultVersion: "v1.0",
  customHosts: new Set([new URL(opts.server).hostname]),
  authProvider: (done) => accessToken().then((t) => done(null, t), (err) => done(err, null)),
});

// What the bot says: the samples of a WAV file, or of a generated chime.
const greeting = opts.wav ? resample(readWav(readFileSync(opts.wav)), sampleRate) : chime(sampleRate);

const server = http.createServer(webhook);
const wss = new WebSocketServer({ server, path: "/media" });
wss.on("connection", stream);
server.listen(Number(opts.port), "127.0.0.1", () => {
  const { port } = server.address();
  console.log(`listening: webhook http://127.0.0.1:${port}/webhook, media ws://127.0.0.1:${port}/media`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    console.log("bye");
    process.exit(0);
  });
}

// webhook takes the calls' notifications. (In production, check the bearer
// token of each request first: a JWT signed by Switchboard, as by Graph.)
function webhook(req, res) {
  if (req.method !== "POST" || new URL(req.url, "http://x").pathname !== "/webhook") {
    res.writeHead(404).end();
    return;
  }
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    res.writeHead(202).end(); // acknowledge first: Switchboard retries what is not acknowledged
    let notifications;
    try {
      notifications = JSON.parse(body).value ?? [];
    } catch {
      return;
    }
    for (const n of notifications) {
      // The call's own notifications: /communications/calls/{id}.
      const m = /^\/communications\/calls\/([^/]+)$/.exec(n.resourceUrl ?? "");
      if (!m || !n.resourceData?.state) continue;
      callChanged(m[1], n.resourceData).catch((err) => console.error(`call ${m[1]}: ${describe(err)}`));
    }
  });
}

// callChanged answers incoming calls, and tells what happens to them.
async function callChanged(id, call) {
  if (call.state !== "incoming") {
    console.log(`call ${id}: ${call.state}`);
    return;
  }
  const who = call.source?.identity?.user ?? call.source?.identity?.phone ?? {};
  console.log(`call ${id}: incoming from ${who.displayName ?? who.id ?? "someone"}; answering`);
  const { port } = server.address();
  await graph.api(`/communications/calls/${id}/answer`).post({
    callbackUri: `http://127.0.0.1:${port}/webhook`,
    acceptedModalities: ["audio"],
    mediaConfig: {
      "@odata.type": "#microsoft.graph.appHostedMediaConfig",
      // Switchboard's stream settings: it connects to this URL.
      blob: JSON.stringify({ switchboard: { url: `ws://127.0.0.1:${port}/media`, sampleRate } }),
    },
  });
}

// stream is one call's media stream: Switchboard connected to us. (In
// production, check its bearer token as the webhook's.)
function stream(ws) {
  let callId = "";
  ws.on("message", async (data, isBinary) => {
    if (isBinary) return; // the call's audio: this bot does not listen
    const e = JSON.parse(data.toString());
    switch (e.event) {
      case "start": {
        callId = e.callId;
        if (e.resumed) return; // a reconnection: the greeting is already queued
        // Our voice: 16-bit little-endian samples at the stream's rate, in
        // messages of 200 ms. Switchboard queues up to 60 s and plays it in
        // real time, so a short file can go at once.
        const pcm = Buffer.alloc(greeting.length * 2);
        greeting.forEach((v, i) => pcm.writeInt16LE(v, 2 * i));
        const chunk = (sampleRate / 5) * 2;
        for (let at = 0; at < pcm.length; at += chunk) ws.send(pcm.subarray(at, at + chunk));
        // A mark comes back when everything sent before it has been played.
        ws.send(JSON.stringify({ event: "mark", name: "greeting" }));
        console.log(`stream ${callId}: started; speaking ${(greeting.length / sampleRate).toFixed(2)} s, then mark "greeting"`);
        return;
      }
      case "mark":
        if (e.name !== "greeting" || e.cleared) return;
        console.log(`stream ${callId}: mark "greeting": the caller heard it all; hanging up`);
        try {
          await graph.api(`/communications/calls/${callId}`).delete();
        } catch (err) {
          console.error(`stream ${callId}: hang up: ${describe(err)}`);
        }
        return;
      case "stop":
        console.log(`stream ${callId}: stop (${e.reason})`);
        return;
      default:
        console.log(`stream ${callId}: ${e.event} ${JSON.stringify(e)}`);
    }
  });
}

// describe renders an error with its cause: fetch's "fetch failed" says
// why only there (an untrusted certificate, a refused connection).
function describe(err) {
  return [err?.message ?? String(err), err?.cause?.message].filter(Boolean).join(": ");
}

// readWav reads a 16-bit PCM WAV file into mono samples (channels averaged).
function readWav(buf) {
  if (buf.toString("ascii", 0, 4) !== "RIFF" || buf.toString("ascii", 8, 12) !== "WAVE") {
    throw new Error("not a WAV file");
  }
  let fmt, data;
  for (let at = 12; at + 8 <= buf.length; ) {
    const id = buf.toString("ascii", at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    if (id === "fmt ") {
      fmt = { tag: buf.readUInt16LE(at + 8), channels: buf.readUInt16LE(at + 10), rate: buf.readUInt32LE(at + 12), bits: buf.readUInt16LE(at + 22) };
    } else if (id === "data") {
      data = buf.subarray(at + 8, Math.min(buf.length, at + 8 + size));
    }
    at += 8 + size + (size & 1);
  }
  // 1 is PCM; 0xFFFE (extensible) holds PCM too in files that use it.
  if (!fmt || !data || (fmt.tag !== 1 && fmt.tag !== 0xfffe) || fmt.bits !== 16) {
    throw new Error("the bot reads 16-bit PCM WAV files only");
  }
  const frames = Math.floor(data.length / (2 * fmt.channels));
  const samples = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < fmt.channels; c++) sum += data.readInt16LE(2 * (i * fmt.channels + c));
    samples[i] = sum / fmt.channels;
  }
  return { rate: fmt.rate, samples };
}

// resample converts audio to rate by linear interpolation: good enough for a
// prompt.
function resample({ rate, samples }, to) {
  const out = new Int16Array(Math.floor((samples.length * to) / rate));
  for (let i = 0; i < out.length; i++) {
    const x = (i * rate) / to;
    const j = Math.floor(x);
    const next = samples[Math.min(j + 1, samples.length - 1)];
    out[i] = Math.round(samples[j] + (next - samples[j]) * (x - j));
  }
  return out;
}

// chime is three rising notes, 1.2 s in all.
function chime(rate) {
  const notes = [523.25, 659.25, 783.99];
  const n = Math.round(rate * 0.4);
  const out = new Int16Array(n * notes.length);
  notes.forEach((f, k) => {
    for (let i = 0; i < n; i++) {
      const fade = Math.min(1, i / (rate * 0.01), (n - i) / (rate * 0.05));
      out[k * n + i] = Math.round(8000 * fade * Math.sin((2 * Math.PI * f * i) / rate));
    }
  });
  return out;
}
