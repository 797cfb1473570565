"use strict";
// The mail Latch sent, for sdk.test.js and b2b.test.js: the server's outbox (LATCH_OUTBOX_DIR, one
// RFC 5322 .eml file per message, names sorting by time), or with LATCH_MAIL_SOURCE=ses moto's
// record of the mail Latch sent through SES (ses_mail.js). The outbox parser (splitMessage,
// textPart, outboxMessagesTo, freshMessages) also serves the browser suite
// (tests/browser/support.mjs), which reads the same outbox format. Only Node's own modules are
// required here, so that suite can import this file without this directory's node_modules.
// Not a test file itself: package.json lists those.

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { sesMessagesTo, sesMessage, htmlHrefs } = require("./ses_mail");

const MAIL_SOURCE = process.env.LATCH_MAIL_SOURCE || "outbox";
// Reading mail back from moto (LATCH_MAIL_SOURCE=ses) takes seconds per read: the files that read
// mail get more time (support.js watchdog).
const MAIL_WATCHDOG_MINUTES = MAIL_SOURCE === "ses" ? 20 : 5;

function outboxDir() {
  const dir = process.env.LATCH_OUTBOX_DIR;
  assert.ok(dir, "missing environment: LATCH_OUTBOX_DIR (run scripts/sdk-tests.sh)");
  return dir;
}

// Split an RFC 5322 message (or MIME part) into lower-cased headers and the body.
function splitMessage(raw) {
  const at = raw.search(/\r?\n\r?\n/);
  assert.ok(at >= 0, "message has no header/body separator");
  const head = raw.slice(0, at).replace(/\r?\n[ \t]+/g, " "); // unfold
  const body = raw.slice(at).replace(/^\r?\n\r?\n/, "");
  const headers = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body };
}

// A part's body, its Content-Transfer-Encoding undone (Latch's outbox writes 8bit:
// shared/src/mail/outbox.rs; base64 and quoted-printable are decoded should that change).
function decodePart({ headers, body }) {
  const enc = (headers["content-transfer-encoding"] || "").toLowerCase();
  if (enc === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (enc === "quoted-printable") {
    const bytes = body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return body;
}

// The text/plain part of the message `raw` (read from `file`), decoded.
function textPart(raw, file) {
  const msg = splitMessage(raw);
  const type = msg.headers["content-type"] || "text/plain";
  if (/^text\/plain/i.test(type)) return decodePart(msg);
  const m = /boundary="?([^";]+)"?/i.exec(type);
  assert.ok(m && /^multipart\//i.test(type), `${file}: neither text/plain nor multipart: ${type}`);
  for (const chunk of msg.body.split(`--${m[1]}`).slice(1)) {
    if (chunk.startsWith("--")) break; // closing delimiter
    const part = splitMessage(chunk.replace(/^\r?\n/, ""));
    if (/^text\/plain/i.test(part.headers["content-type"] || "")) return decodePart(part);
  }
  assert.fail(`${file} has no text/plain part`);
}

// Outbox source: every message file in `dir` addressed to `address`, oldest first.
function outboxMessagesTo(address, dir = outboxDir()) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".eml"))
    .sort()
    .filter((f) => {
      const { headers } = splitMessage(fs.readFileSync(path.join(dir, f), "utf8"));
      return (headers.to || "").toLowerCase() === address.toLowerCase();
    });
}

// The references `list()` returns that are not in `before`, polled every 50 ms until there is
// one or `timeoutMs` has passed.
async function freshMessages(list, before, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let fresh = [];
  for (;;) {
    fresh = (await list()).filter((f) => !before.has(f));
    if (fresh.length || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return fresh;
}

// References to every message addressed to `address`, oldest first, from the configured source.
async function messagesTo(address) {
  if (MAIL_SOURCE === "ses") return sesMessagesTo(address);
  assert.equal(MAIL_SOURCE, "outbox", "LATCH_MAIL_SOURCE must be outbox or ses");
  return outboxMessagesTo(address);
}

// One message from the configured source: {ref, label (for messages), to, text, candidates}, the
// candidates being where its links stand: the text part's lines (in the outbox's text part each
// link stands alone on its line), or the HTML body's hrefs (moto keeps only the HTML part).
function readRawMail(ref) {
  if (MAIL_SOURCE === "ses") {
    const { to, body } = sesMessage(ref);
    return { ref, label: `SES message ${ref}`, to, text: body, candidates: htmlHrefs(body) };
  }
  const raw = fs.readFileSync(path.join(outboxDir(), ref), "utf8");
  const { headers } = splitMessage(raw);
  const text = textPart(raw, ref);
  return { ref, label: ref, to: headers.to, text, candidates: text.split(/\r?\n/).map((l) => l.trim()) };
}

// Run `call`, then {resp: its result, ref: the one new message it sent to `email`}.
async function withNewMessage(email, call) {
  const before = new Set(await messagesTo(email));
  const resp = await call();
  const fresh = await freshMessages(() => messagesTo(email), before, 5000);
  assert.equal(fresh.length, 1, `expected exactly one new message to ${email}, found ${JSON.stringify(fresh)}`);
  return { resp, ref: fresh[0] };
}

module.exports = {
  MAIL_WATCHDOG_MINUTES,
  splitMessage,
  textPart,
  outboxMessagesTo,
  freshMessages,
  messagesTo,
  readRawMail,
  withNewMessage,
};
