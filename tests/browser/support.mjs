// Helpers for the browser suite (run.mjs): Latch's backend API from Node, the mail outbox, RFC 6238
// TOTP, the static page servers and the Chromium context that records every request.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { createExampleServer } from "../../examples/serve.mjs";

export const HERE = path.dirname(fileURLToPath(import.meta.url));

function env(name, fallback) {
  const v = process.env[name] ?? fallback;
  assert.ok(v, `missing environment: ${name} (run scripts/browser-tests.sh)`);
  return v;
}

export const CONFIG = {
  publicToken: env("LATCH_PUBLIC_TOKEN"),
  projectId: env("LATCH_PROJECT_ID"),
  secret: env("LATCH_SECRET"),
  outboxDir: env("LATCH_OUTBOX_DIR"),
  // The certificate Latch serves (self-signed for `localhost`): Node trusts it for its own calls.
  tlsCa: env("LATCH_TLS_CA"),
  // Where the SDK (and Node) reach Latch: the SDK keeps only the host name, on port 443.
  latchBase: "https://localhost",
  chromium: process.env.CHROMIUM || "/usr/bin/chromium-headless-shell",
  pagesPort: Number(process.env.BROWSER_PAGES_PORT || 8080),
  otherPort: Number(process.env.BROWSER_OTHER_PORT || 8081),
  shotDir: process.env.BROWSER_SCREENSHOT_DIR || fs.mkdtempSync(path.join(process.env.TMPDIR || "/tmp", "latch-browser-shots-")),
  iifeDir: path.join(HERE, "node_modules", "@stytch", "vanilla-js", "dist", "iife"),
};
export const PAGES = `http://localhost:${CONFIG.pagesPort}`;
export const OTHER_PAGES = `http://localhost:${CONFIG.otherPort}`;

// ------------------------------------------------------------------ Latch over HTTPS from Node

const agent = new https.Agent({ ca: fs.readFileSync(CONFIG.tlsCa), keepAlive: false });

/** One HTTPS request to Latch: {status, headers, json}. `auth` defaults to project_id:secret. */
export function latch(method, urlPath, body, { auth, headers = {} } = {}) {
  const basic = auth === null ? null : auth || `${CONFIG.projectId}:${CONFIG.secret}`;
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(urlPath, CONFIG.latchBase),
      {
        method,
        agent,
        headers: {
          ...(data !== undefined ? { "content-type": "application/json", "content-length": Buffer.byteLength(data) } : {}),
          ...(basic ? { authorization: `Basic ${Buffer.from(basic).toString("base64")}` } : {}),
          ...headers,
        },
        timeout: 15000,
      },
      (res) => {
        let raw = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (raw += c));
        res.on("end", () => {
          let json = null;
          try {
            json = raw ? JSON.parse(raw) : null;
          } catch {
            json = { unparsed: raw };
          }
          resolve({ status: res.statusCode, headers: res.headers, json });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${urlPath}: timed out`)));
    req.on("error", reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** A backend call that must succeed; returns its JSON. */
export async function backend(method, urlPath, body) {
  const r = await latch(method, urlPath, body);
  assert.equal(r.status, 200, `${method} ${urlPath} -> ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

export const uid = () => crypto.randomBytes(4).toString("hex");
export const strongPassword = () => `Browser-${crypto.randomBytes(6).toString("base64url")}-Latch!9`;

/** An organization (POST /v1/b2b/organizations) with a fresh slug. */
export async function newOrg(prefix, extra = {}) {
  const slug = `${prefix}-${uid()}`;
  const r = await backend("POST", "/v1/b2b/organizations", {
    organization_name: `Browser ${slug}`,
    organization_slug: slug,
    ...extra,
  });
  return r.organization;
}

/**
 * A member of `org` with `password`, through POST /v1/b2b/passwords/migrate (md_5 digest of the
 * password; the member is created by the call).
 */
export async function memberWithPassword(org, email, password) {
  const hash = crypto.createHash("md5").update(password, "utf8").digest("hex");
  const r = await backend("POST", "/v1/b2b/passwords/migrate", {
    organization_id: org.organization_id,
    email_address: email,
    hash,
    hash_type: "md_5",
    name: "Browser Test",
  });
  return r.member;
}

// ------------------------------------------------------------------ the outbox

function splitMessage(raw) {
  const at = raw.search(/\r?\n\r?\n/);
  assert.ok(at >= 0, "message has no header/body separator");
  const head = raw.slice(0, at).replace(/\r?\n[ \t]+/g, " ");
  const body = raw.slice(at).replace(/^\r?\n\r?\n/, "");
  const headers = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body };
}

function decodePart({ headers, body }) {
  const enc = (headers["content-transfer-encoding"] || "").toLowerCase();
  if (enc === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (enc === "quoted-printable") {
    const bytes = body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return body;
}

function textPart(raw) {
  const msg = splitMessage(raw);
  const type = msg.headers["content-type"] || "text/plain";
  if (/^text\/plain/i.test(type)) return decodePart(msg);
  const m = /boundary="?([^";]+)"?/i.exec(type);
  assert.ok(m, `neither text/plain nor multipart: ${type}`);
  for (const chunk of msg.body.split(`--${m[1]}`).slice(1)) {
    if (chunk.startsWith("--")) break;
    const part = splitMessage(chunk.replace(/^\r?\n/, ""));
    if (/^text\/plain/i.test(part.headers["content-type"] || "")) return decodePart(part);
  }
  assert.fail("message has no text/plain part");
}

function messagesTo(address) {
  if (!fs.existsSync(CONFIG.outboxDir)) return [];
  return fs
    .readdirSync(CONFIG.outboxDir)
    .filter((f) => f.endsWith(".eml"))
    .sort()
    .filter((f) => {
      const { headers } = splitMessage(fs.readFileSync(path.join(CONFIG.outboxDir, f), "utf8"));
      return (headers.to || "").toLowerCase() === address.toLowerCase();
    });
}

/** The outbox's current messages to `address` (to pass to newMail). */
export const mailMark = (address) => new Set(messagesTo(address));

/**
 * Wait for exactly one message to `address` that was not in `mark`; returns {file, subject, text,
 * links: [URL]} with every http(s) link of its text part.
 */
export async function newMail(address, mark, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let fresh = [];
  for (;;) {
    fresh = messagesTo(address).filter((f) => !mark.has(f));
    if (fresh.length || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(fresh.length, 1, `expected one new message to ${address} in ${CONFIG.outboxDir}, found ${fresh.length}`);
  const raw = fs.readFileSync(path.join(CONFIG.outboxDir, fresh[0]), "utf8");
  const text = textPart(raw);
  const links = text
    .split(/\s+/)
    .filter((w) => /^https?:\/\//.test(w))
    .map((w) => new URL(w));
  return { file: fresh[0], subject: splitMessage(raw).headers.subject, text, links };
}

/** The one link in `mail` whose stytch_token_type is `type`. */
export function linkOfType(mail, type) {
  const hits = mail.links.filter((u) => u.searchParams.get("stytch_token_type") === type);
  assert.equal(hits.length, 1, `${mail.file}: expected one link with stytch_token_type=${type}:\n${mail.text}`);
  const token = hits[0].searchParams.getAll("token");
  assert.ok(token.length === 1 && token[0], `link without exactly one token: ${hits[0]}`);
  return hits[0];
}

// ------------------------------------------------------------------ RFC 6238 TOTP (SHA-1, 30 s, 6 digits)

function base32Decode(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of s.toUpperCase().replace(/[\s=]/g, "")) {
    const i = alphabet.indexOf(ch);
    assert.ok(i >= 0, `not base32: ${s}`);
    value = ((value << 5) | i) >>> 0;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function totpCode(secret, step = Math.floor(Date.now() / 30000)) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const digest = crypto.createHmac("sha1", base32Decode(secret)).update(msg).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, "0");
}

// ------------------------------------------------------------------ page servers and the browser

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

/** The example pages on 127.0.0.1:8080 (the authorized origin) and on 8081 (an unauthorized one). */
export async function startPageServers(orgSlug) {
  const opts = { publicToken: CONFIG.publicToken, baseUrl: CONFIG.latchBase, orgSlug, iifeDir: CONFIG.iifeDir };
  const main = await listen(createExampleServer(opts), CONFIG.pagesPort);
  const other = await listen(createExampleServer(opts), CONFIG.otherPort);
  return {
    close: () => Promise.all([main, other].map((s) => new Promise((r) => (s.closeAllConnections?.(), s.close(r))))),
  };
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);
const isLocal = (u) => {
  const url = new URL(u);
  return ["data:", "blob:", "about:"].includes(url.protocol) || LOOPBACK.has(url.hostname);
};

export async function launchBrowser() {
  assert.ok(fs.existsSync(CONFIG.chromium), `no Chromium at ${CONFIG.chromium} (set CHROMIUM)`);
  return chromium.launch({ executablePath: CONFIG.chromium, args: ["--ignore-certificate-errors"] });
}

/**
 * A fresh context (cookies, storage) whose every request is recorded in `requests`; a request off
 * loopback is recorded and aborted. `page.consoleLines` holds the console output.
 */
export async function newContext(browser) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 480, height: 720 } });
  const requests = [];
  context.on("request", (r) => requests.push({ url: r.url(), method: r.method(), headers: r.headers(), postData: r.postData() }));
  context.setDefaultTimeout(15000);
  await context.route("**/*", (route) => (isLocal(route.request().url()) ? route.continue() : route.abort("blockedbyclient")));
  const page = await context.newPage();
  page.consoleLines = [];
  page.on("console", (m) => page.consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => page.consoleLines.push(`pageerror: ${e.message}`));
  return { context, page, requests };
}

/** Every recorded request stayed on loopback, and there were some. */
export function assertLoopbackOnly(requests) {
  assert.ok(requests.length > 0, "the browser made no requests at all");
  const off = requests.filter((r) => !isLocal(r.url)).map((r) => r.url);
  assert.deepEqual(off, [], `requests left loopback: ${off.join(", ")}`);
}

/** The recorded SDK calls (path below /sdk/v1, method), preflights excluded. */
export const sdkCalls = (requests) =>
  requests
    .filter((r) => r.url.startsWith(`${CONFIG.latchBase}/sdk/v1/`) && r.method !== "OPTIONS")
    .map((r) => `${r.method} ${new URL(r.url).pathname.slice("/sdk/v1".length)}`);

/** A PNG of the page, `<name>.png` in the screenshot directory; returns its path. */
export async function shot(page, name) {
  const file = path.join(CONFIG.shotDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** document.cookie of the page as an object. */
export const pageCookies = (page) =>
  page.evaluate(() => Object.fromEntries(document.cookie.split("; ").filter(Boolean).map((c) => [c.slice(0, c.indexOf("=")), c.slice(c.indexOf("=") + 1)])));
