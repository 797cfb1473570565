"use strict";
// The mail Latch sent through SES (LATCH_MAILER=ses), read back from the moto server the suites
// run against: scripts/moto_serial.py serves moto's record of SES messages at
// /moto-api/latch/ses.json, in send order, each keeping only the HTML part as `body`. Shared by
// sdk.test.js and b2b.test.js (not a test file itself: package.json lists the test files).

const assert = require("node:assert/strict");

function sesUrl() {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  assert.ok(endpoint, "LATCH_MAIL_SOURCE=ses needs AWS_ENDPOINT_URL (the moto server)");
  return `${endpoint.replace(/\/+$/, "")}/moto-api/latch/ses.json`;
}

const seen = new Map(); // message id -> moto's record of it

async function sesMessages() {
  const url = sesUrl();
  let last;
  // Should a read catch moto mid-change and not parse, retry a few times.
  for (let i = 0; i < 10; i++) {
    try {
      const r = await fetch(url);
      const data = JSON.parse(await r.text());
      const messages = (data.ses && data.ses.Message) || [];
      for (const m of messages) seen.set(m.id, m);
      return messages;
    } catch (e) {
      last = e;
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  assert.fail(`could not read ${url}: ${last}`);
}

const sesTo = (m) => (m.destinations && m.destinations.ToAddresses) || [];

const unescapeHtml = (s) =>
  s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(parseInt(d, 10)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

// Every href attribute value in an HTML body, unescaped.
function htmlHrefs(body) {
  const hrefs = [];
  for (const m of body.matchAll(/\shref\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)) hrefs.push(unescapeHtml(m[1] ?? m[2]));
  return hrefs;
}

// The ids of the messages sent to `address` (case-insensitively), oldest first.
async function sesMessagesTo(address) {
  const lower = address.toLowerCase();
  return (await sesMessages()).filter((m) => sesTo(m).some((a) => a.toLowerCase() === lower)).map((m) => m.id);
}

// One message already listed by sesMessagesTo: its recipient(s) and HTML body. More than one
// recipient shows up as a list, so `mail.to === address` fails.
function sesMessage(id) {
  const m = seen.get(id);
  assert.ok(m, `SES message ${id} was never listed`);
  const body = m.body || "";
  assert.ok(body, `SES message ${id} has no body: ${JSON.stringify(m)}`);
  const to = sesTo(m);
  return { to: to.length === 1 ? to[0] : JSON.stringify(to), body };
}

module.exports = { sesMessagesTo, sesMessage, htmlHrefs };
