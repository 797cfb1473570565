"use strict";
// What every Node suite shares: the watchdog, the server it is pointed at (from
// scripts/sdk-tests.sh), SDK clients on it, common constants, and the assertions on the Stytch
// error envelope, the success metadata and RFC 3339 timestamps (docs/reference/stytch-api.md §2,
// §0.4). Not a test file itself: package.json lists those.

const { after } = require("node:test");
const assert = require("node:assert/strict");
const stytch = require("stytch");

/** Bound the test file `file` to `minutes`, and end the process once every test has run: jose can
 * leave a keep-alive socket open after a JWKS fetch (docs/reference/stytch-api.md §14.5), which
 * would keep the process alive forever, so an unref'd timer ends it if something still holds it
 * open. */
function watchdog(file, minutes = 5) {
  const ms = minutes * 60 * 1000;
  setTimeout(() => {
    console.error(`${file}: still running after ${ms / 1000}s, exiting`);
    process.exit(1);
  }, ms).unref();
  after(() => {
    setTimeout(() => process.exit(), 2000).unref();
  });
}

/** The Latch server under test, from the environment scripts/sdk-tests.sh sets; `extra` names
 * more variables the suite needs. */
function serverEnv(extra = []) {
  const required = ["LATCH_URL", "LATCH_PROJECT_ID", "LATCH_SECRET", ...extra];
  const missing = required.filter((k) => !process.env[k]);
  if (missing.length) {
    throw new Error(`missing environment: ${missing.join(", ")} (run scripts/sdk-tests.sh)`);
  }
  return {
    BASE: process.env.LATCH_URL.replace(/\/+$/, ""),
    PROJECT_ID: process.env.LATCH_PROJECT_ID,
    SECRET: process.env.LATCH_SECRET,
  };
}

/** `new Client({ project_id, secret, env: base + "/" })` (stytch.Client or stytch.B2BClient). The
 * SDK warns on every construction with a custom env; the warning is muted to keep the test output
 * clean. */
function makeSdkClient(Client, { project_id, secret, base }) {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return new Client({ project_id, secret, env: base + "/" });
  } finally {
    console.warn = warn;
  }
}

// Passwords and claims the suites share.
const BREACHED_AT_START = "Tr0ub4dour&3-breached-pw"; // listed by tests/src/hibp_stub.rs
const WEAK_PASSWORD = "password";
const SESSION_CLAIM = "https://stytch.com/session";
// Redirect URLs: Stytch's test default, plus the two app URLs scripts/sdk-tests.sh allow-lists
// (LATCH_REDIRECT_URLS).
const DEFAULT_REDIRECT_URL = "http://localhost:3000/authenticate";
const APP_RESET_URL = "http://localhost:3000/reset-password";
const APP_LOGIN_URL = "http://localhost:3000/login";

/** The header and claims of a compact JWS, unverified. */
function decodeJwt(token) {
  const parts = token.split(".");
  assert.equal(parts.length, 3, `not a compact JWS: ${token}`);
  const dec = (s) => JSON.parse(Buffer.from(s, "base64url").toString("utf8"));
  return { header: dec(parts[0]), claims: dec(parts[1]) };
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Await `promiseOrFn` (a promise or a function returning one); require a StytchError of this
 * type and status with a full envelope, and return it. */
async function expectError(promiseOrFn, errorType, status) {
  const p = typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn;
  let err;
  try {
    const value = await p;
    assert.fail(`expected ${errorType}, got success: ${JSON.stringify(value).slice(0, 2000)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.ok(err instanceof stytch.StytchError, `expected StytchError, got ${err && err.stack}`);
  assert.equal(err.error_type, errorType, `error body: ${err.message}`);
  assert.equal(err.status_code, status, `error body: ${err.message}`);
  for (const key of ["request_id", "error_message", "error_url"]) {
    assert.ok(typeof err[key] === "string" && err[key].length > 0, `envelope field ${key}: ${err.message}`);
  }
  return err;
}

function assertMeta(resp) {
  assert.equal(resp.status_code, 200);
  assert.ok(typeof resp.request_id === "string" && resp.request_id.length > 0, "request_id");
}

function assertTimestamp(value, what, { optional = false } = {}) {
  if (optional && (value === undefined || value === null)) return;
  assert.ok(typeof value === "string" && RFC3339.test(value), `${what} is not RFC 3339: ${JSON.stringify(value)}`);
}

module.exports = { watchdog, serverEnv, makeSdkClient, decodeJwt, RFC3339, expectError, assertMeta, assertTimestamp };
Object.assign(module.exports, { BREACHED_AT_START, WEAK_PASSWORD, SESSION_CLAIM });
Object.assign(module.exports, { DEFAULT_REDIRECT_URL, APP_RESET_URL, APP_LOGIN_URL });
