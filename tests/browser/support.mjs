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
// The outbox format is the SDK suites' too: one parser (Node's own modules only) serves both.
import { splitMessage, textPart, outboxMessagesTo, freshMessages } from "../sdk/node/test/mail.js";
// RFC 6238 TOTP, as the SDK suite's b2b.test.js computes it.
export { totpCode } from "../sdk/node/test/totp.js";

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

const messagesTo = (address) => outboxMessagesTo(address, CONFIG.outboxDir);

/** The outbox's current messages to `address` (to pass to newMail). */
export const mailMark = (address) => new Set(messagesTo(address));

/**
 * Wait for exactly one message to `address` that was not in `mark`; returns {file, subject, text,
 * links: [URL]} with every http(s) link of its text part.
 */
export async function newMail(address, mark, timeoutMs = 10000) {
  const fresh = await freshMessages(() => messagesTo(address), mark, timeoutMs);
  assert.equal(fresh.length, 1, `expected one new message to ${address} in ${CONFIG.outboxDir}, found ${fresh.length}`);
  const raw = fs.readFileSync(path.join(CONFIG.outboxDir, fresh[0]), "utf8");
  const text = textPart(raw, fresh[0]);
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
