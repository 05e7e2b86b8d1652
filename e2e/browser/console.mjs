// Drives the Switchboard console in Debian's Chromium with Playwright, for
// the Go end-to-end tests (e2e/console_test.go), which start the server,
// make the calls and check what this prints.
//
//   node console.mjs <scenario>    scenario: list | incoming | webrtc | media | meeting | ring | csrf | signin
//
// Input comes from the environment (SB_URL, the console's base URL; the
// scenario's call ids and credentials); the result is one JSON line on
// stdout. Screenshots go to SB_ARTIFACTS.
import { chromium } from "playwright-core";
import path from "node:path";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const scenario = process.argv[2];
const base = env("SB_URL");
const artifacts = env("SB_ARTIFACTS");
const timeout = 15000;

// The microphone is a fake device: it speaks SB_WAV (looped) when set.
// WebRTC on loopback needs loopback candidates, and plain IP ones rather
// than mDNS names.
const args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
  "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns", "--autoplay-policy=no-user-gesture-required"];
if (process.env.SB_WAV) args.push(`--use-file-for-fake-audio-capture=${process.env.SB_WAV}`);
const browser = await chromium.launch({ executablePath: process.env.SB_CHROMIUM || "/usr/bin/chromium", args });

// commands are the lines the test writes on stdin, one at a time.
const commands = (async function* () {
  let buf = "";
  for await (const chunk of process.stdin) {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) { yield buf.slice(0, i); buf = buf.slice(i + 1); }
  }
})();
const result = {};
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));

  if (scenario === "list") {
    const callId = env("SB_CALL_ID");
    await page.goto(base + "/console/");
    const row = page.locator(`tr[data-call-id="${callId}"]`);
    await row.waitFor();
    result.rowText = await row.innerText();
    result.signedInAs = await page.locator("#who-app").innerText();
    await page.screenshot({ path: path.join(artifacts, "console-calls.png"), fullPage: true });
    await row.click();
    await page.locator("#roster tbody tr").first().waitFor();
    await page.locator("#notifications tbody tr").first().waitFor();
    result.roster = await page.locator("#roster tbody tr").allInnerTexts();
    result.timeline = await page.locator("ol.timeline li").allInnerTexts();
    result.notifications = await page.locator("#notifications tbody tr").count();
    await page.screenshot({ path: path.join(artifacts, "console-call.png"), fullPage: true });
    // The call ends (the test hangs up once told): the page shows it live.
    console.log(JSON.stringify({ ready: true }));
    // The head and the log are fetched one after the other: wait for both.
    await page.locator('#call-head .state[data-state="terminated"]').waitFor({ timeout: 20000 });
    await page.locator("#notifications tbody tr", { hasText: "deleted" }).waitFor({ timeout: 20000 });
    result.endedLive = true;
    result.notificationsAfter = await page.locator("#notifications tbody tr").count();
    await page.screenshot({ path: path.join(artifacts, "console-call-ended.png"), fullPage: true });
  } else if (scenario === "incoming") {
    // The page places an incoming call; the test's bot answers it; the
    // page hangs up as the caller.
    await page.goto(base + "/console/");
    await page.locator("#place-incoming").waitFor();
    await page.selectOption("#in-kind", "user");
    await page.fill("#in-from", env("SB_FROM"));
    await page.fill("#in-name", "Page caller");
    await page.fill("#in-callback", env("SB_CALLBACK"));
    await page.screenshot({ path: path.join(artifacts, "console-place-incoming.png"), fullPage: true });
    await page.click("#place-incoming button[type=submit]");
    await page.waitForURL(/#\/calls\/.+/);
    result.callId = decodeURIComponent(new URL(page.url()).hash.replace("#/calls/", ""));
    console.log(JSON.stringify({ placed: result.callId }));
    await page.locator('#call-head .state[data-state="established"]').waitFor({ timeout: 20000 });
    const caller = page.locator("#roster tbody tr", { hasText: "Page caller" });
    await caller.locator('button[data-action="hangUp"]').waitFor();
    await page.screenshot({ path: path.join(artifacts, "console-incoming-established.png"), fullPage: true });
    await caller.locator('button[data-action="hangUp"]').click();
    await page.locator('#call-head .state[data-state="terminated"]').waitFor({ timeout: 20000 });
    result.endedByCaller = true;
  } else if (scenario === "webrtc") {
    // The browser calls the bot with its (fake) microphone; the test
    // answers, records, then tells the page to press keys and hang up.
    await page.goto(base + "/console/");
    await page.locator("#browser-call").waitFor();
    await page.fill("#bc-user", env("SB_FROM"));
    await page.fill("#bc-callback", env("SB_CALLBACK"));
    await page.click("#bc-call");
    await page.locator("#bc-status[data-call-id]").waitFor();
    result.callId = await page.locator("#bc-status").getAttribute("data-call-id");
    console.log(JSON.stringify({ placed: result.callId }));
    await page.locator("#bc-status", { hasText: "In the call." }).waitFor({ timeout: 20000 });
    await page.screenshot({ path: path.join(artifacts, "console-browser-call.png"), fullPage: true });
    console.log(JSON.stringify({ inCall: true }));
    for await (const cmd of commands) {
      if (cmd.startsWith("press ")) {
        for (const k of cmd.slice(6)) await page.click(`#bc-keypad button[data-key="${k}"]`);
        console.log(JSON.stringify({ pressed: cmd.slice(6) }));
      } else if (cmd.startsWith("listen ")) {
        // What the page hears, through WebAudio: the loudest level at
        // each frequency asked for, over the time asked for.
        const [ms, ...freqs] = cmd.slice(7).split(" ").map(Number);
        const heard = await page.evaluate(async ({ ms, freqs }) => {
          const a = document.getElementById("bc-audio");
          const ctx = window.__sbAudio || (window.__sbAudio = new AudioContext());
          await ctx.resume();
          const src = window.__sbSource || (window.__sbSource = ctx.createMediaStreamSource(a.srcObject));
          const an = ctx.createAnalyser();
          an.fftSize = 8192;
          an.smoothingTimeConstant = 0;
          src.connect(an);
          const bins = new Float32Array(an.frequencyBinCount);
          const best = freqs.map(() => -Infinity);
          const together = [];
          const until = performance.now() + ms;
          while (performance.now() < until) {
            await new Promise((r) => setTimeout(r, 40));
            an.getFloatFrequencyData(bins);
            const now = freqs.map((f) => {
              const i = Math.round(f / (ctx.sampleRate / an.fftSize));
              return Math.max(bins[i - 1], bins[i], bins[i + 1]);
            });
            now.forEach((v, k) => { best[k] = Math.max(best[k], v); });
            together.push(Math.min(...now));
          }
          src.disconnect(an);
          return { best, together: Math.max(...together) };
        }, { ms, freqs });
        console.log(JSON.stringify({ heard }));
      } else if (cmd === "hangup") {
        await page.click("#bc-hangup");
        await page.locator("#bc-status", { hasText: "You hung up." }).waitFor();
        result.hungUp = true;
        break;
      }
    }
  } else if (scenario === "media") {
    // The test's bot records; the page makes the callee say a WAV, shows
    // them speaking, then plays the bot's recording.
    await page.goto(base + "/console/#/calls/" + encodeURIComponent(env("SB_CALL_ID")));
    const row = page.locator("#roster tbody tr", { has: page.locator('button[data-action="say"]') });
    await row.waitFor();
    console.log(JSON.stringify({ ready: true }));
    for await (const cmd of commands) {
      if (cmd === "say") {
        await row.locator("input.wav").setInputFiles(env("SB_SAY_WAV"));
        await row.locator('button[data-action="say"]').click();
        await row.locator('td.speaking[data-speaking="true"]').waitFor();
        await page.screenshot({ path: path.join(artifacts, "console-call-speaking.png"), fullPage: true });
        console.log(JSON.stringify({ spoke: true }));
      } else if (cmd.startsWith("play ")) {
        const op = page.locator(`#operations tr[data-operation-id="${cmd.slice(5)}"]`);
        await op.locator('button[data-action="playRecording"]').click();
        const audio = op.locator("audio.recording");
        await audio.waitFor();
        result.recordingSeconds = await audio.evaluate((a) => new Promise((resolve, reject) => {
          if (a.readyState >= 1) resolve(a.duration);
          a.onloadedmetadata = () => resolve(a.duration);
          a.onerror = () => reject(new Error("the recording does not play: " + (a.error && a.error.message)));
        }));
        await page.screenshot({ path: path.join(artifacts, "console-call-recording.png"), fullPage: true });
        break;
      }
    }
  } else if (scenario === "meeting") {
    // The browser joins the bot's meeting by its join id, mutes, leaves.
    await page.goto(base + "/console/");
    await page.locator("#browser-call").waitFor();
    await page.selectOption("#bc-mode", "join");
    await page.fill("#bc-meeting", env("SB_MEETING"));
    await page.fill("#bc-passcode", env("SB_PASSCODE"));
    await page.fill("#bc-user", env("SB_FROM"));
    await page.fill("#bc-name", "Browser attendee");
    await page.click("#bc-call");
    await page.locator("#bc-status", { hasText: "In the meeting." }).waitFor();
    console.log(JSON.stringify({ joined: true }));
    for await (const cmd of commands) {
      if (cmd === "mute") {
        await page.click("#bc-mute");
        await page.locator('#bc-mute[data-muted="true"]').waitFor();
        console.log(JSON.stringify({ muted: true }));
      } else if (cmd === "hangup") {
        await page.click("#bc-hangup");
        await page.locator("#bc-status", { hasText: "You hung up." }).waitFor();
        result.hungUp = true;
        break;
      }
    }
  } else if (scenario === "ring") {
    // The browser takes a user's identity; the bot calls that user twice:
    // the page declines the first call and answers the second.
    await page.goto(base + "/console/");
    await page.fill("#rc-user", env("SB_USER"));
    await page.click("#rc-take");
    await page.locator("#rc-status", { hasText: "ring here" }).waitFor();
    console.log(JSON.stringify({ reachable: true }));
    for await (const cmd of commands) {
      if (cmd === "waitRing") {
        await page.locator("#rc-answer").waitFor({ timeout: 20000 });
        await page.screenshot({ path: path.join(artifacts, "console-ringing.png"), fullPage: true });
        console.log(JSON.stringify({ ringing: await page.locator("#rc-ring").innerText() }));
      } else if (cmd === "decline") {
        await page.click("#rc-decline");
        await page.locator("#rc-status", { hasText: "You declined" }).waitFor();
        console.log(JSON.stringify({ declined: true }));
      } else if (cmd === "answer") {
        await page.click("#rc-answer");
        await page.locator("#bc-status", { hasText: "In the call." }).waitFor();
        console.log(JSON.stringify({ answered: true }));
      } else if (cmd === "waitEnded") {
        await page.locator("#bc-status", { hasText: "The call ended." }).waitFor({ timeout: 20000 });
        result.endedLive = true;
        break;
      }
    }
  } else if (scenario === "csrf") {
    await page.goto(base + "/console/");
    await page.locator("#calls").waitFor();
    result.withoutToken = await page.evaluate(async () => {
      const r = await fetch("/console/api/v1.0/communications/calls", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      return r.status;
    });
  } else if (scenario === "signin") {
    // A development browser on loopback is signed in as the development
    // application: sign out, then in as another.
    await page.goto(base + "/console/");
    await page.locator("#calls").waitFor();
    await page.click("#sign-out");
    await page.locator("form.signin").waitFor();
    await page.screenshot({ path: path.join(artifacts, "console-signin.png"), fullPage: true });
    await page.fill("#tenant", env("SB_TENANT"));
    await page.fill("#client", env("SB_CLIENT_ID"));
    await page.fill("#secret", env("SB_CLIENT_SECRET"));
    await page.click("button[type=submit]");
    await page.locator(`tr[data-call-id="${env("SB_OWN_CALL")}"]`).waitFor();
    result.rows = await page.locator("#calls tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.callId));
    const cookies = await context.cookies();
    result.cookie = cookies.filter((c) => c.name === "switchboard_console").map((c) => ({ httpOnly: c.httpOnly, sameSite: c.sameSite }));
    result.scriptSeesCookie = await page.evaluate(() => document.cookie.includes("switchboard_console"));
  } else {
    throw new Error(`unknown scenario ${scenario}`);
  }
  result.consoleErrors = consoleErrors;
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
