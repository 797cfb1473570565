"use strict";
// RFC 6238 TOTP (HMAC-SHA-1, 30-second steps, 6 digits) from a base32 secret, for b2b.test.js and
// the browser suite (tests/browser/support.mjs), which both answer Latch's TOTP step. Node's own
// modules only, so that suite can import it without this directory's node_modules. Not a test
// file itself: package.json lists those.

const assert = require("node:assert/strict");
const crypto = require("node:crypto");

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

// The 30-second step that the time `ms` (default now) falls in.
const totpStep = (ms = Date.now()) => Math.floor(ms / 1000 / 30);

// The code for `secret` at `step` (default the current one).
function totpCode(secret, step = totpStep()) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const digest = crypto.createHmac("sha1", base32Decode(secret)).update(msg).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const value = (digest.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(value).padStart(6, "0");
}

module.exports = { totpStep, totpCode };
