"use strict";
// What every Node suite shares: the server it is pointed at (from scripts/sdk-tests.sh) and the
// assertions on the Stytch error envelope, the success metadata and RFC 3339 timestamps
// (docs/reference/stytch-api.md §2, §0.4). Not a test file itself: package.json lists those.

const assert = require("node:assert/strict");
const stytch = require("stytch");

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

module.exports = { serverEnv, RFC3339, expectError, assertMeta, assertTimestamp };
