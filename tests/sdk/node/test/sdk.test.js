// Latch driven by the official Stytch Node SDK (npm `stytch`, pinned in package.json).
//
// Contract: docs/reference/stytch-api.md (§0-§2, §4, §5 C1-C3 and C5-C15, §6, §8, §9, §13, §14).
// The Node SDK returns response JSON untouched, so the shape checks below restate the
// fields the Python SDK requires (§6): a body that Node accepts but Python would reject
// fails here too.
//
// Environment (set by scripts/sdk-tests.sh): LATCH_URL, LATCH_PROJECT_ID, LATCH_SECRET,
// HIBP_STUB_URL, and for the reset and magic-link tests the mail source: LATCH_OUTBOX_DIR (the
// server's `<data-dir>/outbox`, one .eml per message), or with LATCH_MAIL_SOURCE=ses the moto
// server at AWS_ENDPOINT_URL that Latch sent the mail through (LATCH_MAILER=ses).
// Run: node --test --test-timeout=60000 test/sdk.test.js

"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const stytch = require("stytch");
const { watchdog, serverEnv, makeSdkClient, decodeJwt, expectError, assertMeta, assertTimestamp } = require("./support");
const { BREACHED_AT_START, WEAK_PASSWORD, SESSION_CLAIM } = require("./support");
const { DEFAULT_REDIRECT_URL, APP_RESET_URL, APP_LOGIN_URL } = require("./support");
const { MAIL_WATCHDOG_MINUTES, messagesTo, readRawMail, withNewMessage } = require("./mail");

watchdog("sdk.test.js", MAIL_WATCHDOG_MINUTES);

const { BASE, PROJECT_ID, SECRET } = serverEnv(["HIBP_STUB_URL"]);
const HIBP = process.env.HIBP_STUB_URL.replace(/\/+$/, "");

const makeClient = ({ project_id = PROJECT_ID, secret = SECRET } = {}) =>
  makeSdkClient(stytch.Client, { project_id, secret, base: BASE });

const client = makeClient();

// ------------------------------------------------------------------------------ helpers

const uniqueEmail = () => `sdk-node-${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}@example.com`;
const strongPassword = () => `Latch-${crypto.randomBytes(10).toString("hex")}-Sdk!`;

async function breach(password) {
  const r = await fetch(`${HIBP}/__breach`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ password, count: 3 }),
  });
  assert.equal(r.status, 200, "HIBP stub refused /__breach");
  await r.json();
}

async function setHibpMode(mode) {
  const r = await fetch(`${HIBP}/__mode`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ mode }),
  });
  assert.equal(r.status, 200, "HIBP stub refused /__mode");
  await r.json();
}

// Create a user while the HIBP stub is down (Latch fails open, docs/security.md B3), so Latch
// cannot have cached anything about the password's range.
async function createUserDuringHibpOutage() {
  await setHibpMode("error");
  try {
    return await createUser();
  } finally {
    await setHibpMode("ok");
  }
}

function assertStringArray(value, what) {
  assert.ok(Array.isArray(value), `${what} must be an array`);
  for (const v of value) assert.equal(typeof v, "string", `${what} entries must be strings`);
}

// Required fields of the User object (§6.1); Node would accept anything, Python would not.
function assertUser(user, { user_id, email, requires_reset = false }) {
  assert.ok(user && typeof user === "object", "user object");
  assert.equal(user.user_id, user_id);
  assert.ok(Array.isArray(user.emails));
  assert.deepEqual(
    user.emails.map((e) => e.email),
    [email],
  );
  for (const e of user.emails) {
    assert.ok(typeof e.email_id === "string" && e.email_id, "email_id");
    assert.equal(typeof e.verified, "boolean", "emails[].verified");
  }
  assert.equal(user.status, "active");
  for (const key of [
    "phone_numbers",
    "webauthn_registrations",
    "providers",
    "totps",
    "crypto_wallets",
    "biometric_registrations",
  ]) {
    assert.ok(Array.isArray(user[key]), `user.${key} must be an array`);
  }
  assert.equal(user.is_locked, false);
  assertStringArray(user.roles, "user.roles");
  assert.ok(user.password && typeof user.password.password_id === "string" && user.password.password_id, "user.password");
  assert.equal(user.password.requires_reset, requires_reset);
  assertTimestamp(user.created_at, "user.created_at", { optional: true });
}

// `factor`: [type, delivery_method] of the first factor; null skips that check.
function assertSession(session, { user_id, minutes, factor = ["password", "knowledge"] }) {
  assert.ok(session && typeof session === "object", "session object");
  assert.ok(typeof session.session_id === "string" && session.session_id, "session_id");
  assert.equal(session.user_id, user_id);
  assert.ok(Array.isArray(session.authentication_factors) && session.authentication_factors.length > 0);
  for (const f of session.authentication_factors) {
    assert.equal(typeof f.type, "string", "authentication_factors[].type");
    assert.equal(typeof f.delivery_method, "string", "authentication_factors[].delivery_method");
  }
  if (factor !== null) {
    const f = session.authentication_factors[0];
    assert.equal(f.type, factor[0]);
    assert.equal(f.delivery_method, factor[1]);
  }
  assertStringArray(session.roles, "session.roles");
  assertTimestamp(session.started_at, "started_at");
  assertTimestamp(session.last_accessed_at, "last_accessed_at");
  assertTimestamp(session.expires_at, "expires_at");
  const remaining = (Date.parse(session.expires_at) - Date.now()) / 1000;
  assert.ok(
    Math.abs(remaining - minutes * 60) < 120,
    `session should expire ~${minutes} min from now, expires_at=${session.expires_at}`,
  );
}

function assertNoSession(resp) {
  assert.equal(resp.session_token, "");
  assert.equal(resp.session_jwt, "");
  assert.ok(resp.session === undefined || resp.session === null, "session must be absent or null");
}

async function createUser({ sessionMinutes, password } = {}) {
  const email = uniqueEmail();
  password = password || strongPassword();
  const req = { email, password };
  if (sessionMinutes !== undefined) req.session_duration_minutes = sessionMinutes;
  const resp = await client.passwords.create(req);
  return { email, password, resp };
}

// ------------------------------------------------------------------------------ C1 create

test("create without session_duration_minutes creates no session", async () => {
  const { email, resp } = await createUser();
  assertMeta(resp);
  assert.ok(resp.user_id.startsWith("user-"));
  assert.ok(typeof resp.email_id === "string" && resp.email_id);
  assertNoSession(resp);
  assertUser(resp.user, { user_id: resp.user_id, email });
  assert.equal(resp.user.emails[0].email_id, resp.email_id);
});

test("create with session_duration_minutes returns a session", async () => {
  const { email, resp } = await createUser({ sessionMinutes: 60 });
  assertMeta(resp);
  assert.ok(resp.session_token && resp.session_jwt);
  assertUser(resp.user, { user_id: resp.user_id, email });
  assertSession(resp.session, { user_id: resp.user_id, minutes: 60 });
});

test("create: duplicate_email", async () => {
  const { email } = await createUser();
  await expectError(() => client.passwords.create({ email, password: strongPassword() }), "duplicate_email", 400);
});

test("create: weak_password", async () => {
  const email = uniqueEmail();
  await expectError(() => client.passwords.create({ email, password: WEAK_PASSWORD }), "weak_password", 400);
  await expectError(() => client.passwords.authenticate({ email, password: WEAK_PASSWORD }), "email_not_found", 404);
});

test("create: breached_password", async () => {
  const email = uniqueEmail();
  await expectError(
    () => client.passwords.create({ email, password: BREACHED_AT_START }),
    "breached_password",
    400,
  );
  await expectError(
    () => client.passwords.authenticate({ email, password: BREACHED_AT_START }),
    "email_not_found",
    404,
  );
});

test("create: invalid_email", async () => {
  await expectError(
    () => client.passwords.create({ email: "not-an-email", password: strongPassword() }),
    "invalid_email",
    400,
  );
});

test("create: invalid_session_duration_minutes", async () => {
  const email = uniqueEmail();
  const password = strongPassword();
  await expectError(
    () => client.passwords.create({ email, password, session_duration_minutes: 1 }),
    "invalid_session_duration_minutes",
    400,
  );
  assertMeta(await client.passwords.create({ email, password }));
});

// ------------------------------------------------------------------------------ C2 authenticate

test("authenticate without session_duration_minutes", async () => {
  const { email, password, resp: created } = await createUser();
  const resp = await client.passwords.authenticate({ email, password });
  assertMeta(resp);
  assert.equal(resp.user_id, created.user_id);
  assertNoSession(resp);
  assertUser(resp.user, { user_id: created.user_id, email });
});

test("authenticate with session_duration_minutes", async () => {
  const { email, password, resp: created } = await createUser();
  const resp = await client.passwords.authenticate({ email, password, session_duration_minutes: 30 });
  assertMeta(resp);
  assert.equal(resp.user_id, created.user_id);
  assert.ok(resp.session_token && resp.session_jwt);
  assertSession(resp.session, { user_id: created.user_id, minutes: 30 });
  assertUser(resp.user, { user_id: created.user_id, email });
});

test("authenticate: wrong password is unauthorized_credentials", async () => {
  const { email, password } = await createUser();
  await expectError(
    () => client.passwords.authenticate({ email, password: password + "x" }),
    "unauthorized_credentials",
    401,
  );
});

test("authenticate: email_not_found", async () => {
  await expectError(
    () => client.passwords.authenticate({ email: uniqueEmail(), password: strongPassword() }),
    "email_not_found",
    404,
  );
});

test("authenticate: invalid_email", async () => {
  await expectError(
    () => client.passwords.authenticate({ email: "not-an-email", password: strongPassword() }),
    "invalid_email",
    400,
  );
});

test("authenticate: password breached after signup is reset_password, no session", async () => {
  const { email, password, resp: created } = await createUser();
  await breach(password);
  await expectError(
    () => client.passwords.authenticate({ email, password, session_duration_minutes: 60 }),
    "reset_password",
    401,
  );
  const list = await client.sessions.get({ user_id: created.user_id });
  assert.deepEqual(list.sessions, []);
});

test("authenticate: breach first seen at login is reset_password, wrong password stays 401", async () => {
  const { email, password, resp: created } = await createUserDuringHibpOutage();
  await breach(password);
  await expectError(
    () => client.passwords.authenticate({ email, password: password + "x" }),
    "unauthorized_credentials",
    401,
  );
  await expectError(
    () => client.passwords.authenticate({ email, password, session_duration_minutes: 60 }),
    "reset_password",
    401,
  );
  const list = await client.sessions.get({ user_id: created.user_id });
  assert.deepEqual(list.sessions, []);
});

// ------------------------------------------------------------------------------ C3 strength check

test("strengthCheck: weak password", async () => {
  const resp = await client.passwords.strengthCheck({ password: WEAK_PASSWORD });
  assertMeta(resp);
  assert.equal(resp.valid_password, false);
  assert.ok(Number.isInteger(resp.score) && resp.score >= 0 && resp.score < 3, `score ${resp.score}`);
  assert.equal(typeof resp.breached_password, "boolean");
  assert.equal(resp.strength_policy, "zxcvbn");
  assert.equal(resp.breach_detection_on_create, true);
  assert.ok(resp.feedback, "a weak zxcvbn password should come with feedback");
  assert.ok(typeof resp.feedback.warning === "string" && resp.feedback.warning.length > 0, "feedback.warning");
  assert.ok(resp.feedback.suggestions.length > 0, "feedback.suggestions");
  assertStringArray(resp.feedback.suggestions, "feedback.suggestions");
});

test("strengthCheck: strong password", async () => {
  const resp = await client.passwords.strengthCheck({ password: strongPassword() });
  assertMeta(resp);
  assert.equal(resp.valid_password, true);
  assert.ok(Number.isInteger(resp.score) && resp.score >= 3 && resp.score <= 4, `score ${resp.score}`);
  assert.equal(resp.breached_password, false);
  assert.equal(resp.strength_policy, "zxcvbn");
  assert.equal(resp.breach_detection_on_create, true);
  if (resp.feedback !== undefined && resp.feedback !== null) {
    assert.equal(resp.feedback.warning, "");
    assert.deepEqual(resp.feedback.suggestions, []);
  }
});

test("strengthCheck: breached password with email", async () => {
  const resp = await client.passwords.strengthCheck({ password: BREACHED_AT_START, email: uniqueEmail() });
  assertMeta(resp);
  assert.equal(resp.breached_password, true);
  assert.equal(resp.valid_password, false);
});

// ------------------------------------------------------------------------------ sessions

test("sessions.authenticate by session_token", async () => {
  const { email, resp: created } = await createUser({ sessionMinutes: 60 });
  const resp = await client.sessions.authenticate({ session_token: created.session_token });
  assertMeta(resp);
  assert.equal(resp.session.session_id, created.session.session_id);
  assert.equal(resp.session_token, created.session_token);
  assert.ok(resp.session_jwt);
  assertSession(resp.session, { user_id: created.user_id, minutes: 60 });
  assertUser(resp.user, { user_id: created.user_id, email });
});

test("sessions.authenticate by session_jwt", async () => {
  const { email, resp: created } = await createUser({ sessionMinutes: 60 });
  const resp = await client.sessions.authenticate({ session_jwt: created.session_jwt });
  assertMeta(resp);
  assert.equal(resp.session.session_id, created.session.session_id);
  assert.ok(resp.session_jwt);
  assertSession(resp.session, { user_id: created.user_id, minutes: 60 });
  assertUser(resp.user, { user_id: created.user_id, email });
});

test("sessions.authenticate: unknown token is session_not_found", async () => {
  await expectError(
    () => client.sessions.authenticate({ session_token: "no-such-token-" + crypto.randomUUID() }),
    "session_not_found",
    404,
  );
});

test("sessions.get lists the user's active sessions", async () => {
  const { email, password, resp: created } = await createUser({ sessionMinutes: 60 });
  const second = await client.passwords.authenticate({ email, password, session_duration_minutes: 60 });
  const resp = await client.sessions.get({ user_id: created.user_id });
  assertMeta(resp);
  assert.deepEqual(
    resp.sessions.map((s) => s.session_id).sort(),
    [created.session.session_id, second.session.session_id].sort(),
  );
  for (const s of resp.sessions) assertSession(s, { user_id: created.user_id, minutes: 60 });
});

for (const by of ["session_id", "session_token", "session_jwt"]) {
  test(`sessions.revoke by ${by}, then authenticate is session_not_found`, async () => {
    const { resp: created } = await createUser({ sessionMinutes: 60 });
    const arg = {
      session_id: created.session.session_id,
      session_token: created.session_token,
      session_jwt: created.session_jwt,
    }[by];
    const resp = await client.sessions.revoke({ [by]: arg });
    assertMeta(resp);
    await expectError(
      () => client.sessions.authenticate({ session_token: created.session_token }),
      "session_not_found",
      404,
    );
    await expectError(
      () => client.sessions.authenticate({ session_jwt: created.session_jwt }),
      "session_not_found",
      404,
    );
    const list = await client.sessions.get({ user_id: created.user_id });
    assert.deepEqual(list.sessions, []);
  });
}

// ------------------------------------------------------------------------------ JWKS and JWTs

test("sessions.getJWKS (API method)", async () => {
  const resp = await client.sessions.getJWKS({ project_id: PROJECT_ID });
  assertMeta(resp);
  assert.ok(Array.isArray(resp.keys) && resp.keys.length > 0);
  for (const k of resp.keys) {
    assert.equal(k.kty, "RSA");
    assert.equal(k.alg, "RS256");
    assert.equal(k.use, "sig");
    assertStringArray(k.key_ops, "key_ops");
    assertStringArray(k.x5c, "x5c");
    assert.equal(typeof k.x5tS256, "string");
    assert.ok(k.kid && k.n && k.e);
  }
});

test("JWKS is readable without credentials", async () => {
  const r = await fetch(`${BASE}/v1/sessions/jwks/${PROJECT_ID}`);
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.ok(body.keys.length > 0);
});

test("session JWT format", async () => {
  const { resp: created } = await createUser({ sessionMinutes: 60 });
  const { header, claims } = decodeJwt(created.session_jwt);
  assert.equal(header.alg, "RS256");
  assert.equal(header.typ, "JWT");
  const jwks = await client.sessions.getJWKS({ project_id: PROJECT_ID });
  assert.ok(jwks.keys.some((k) => k.kid === header.kid), `kid ${header.kid} not in JWKS`);
  assert.equal(claims.iss, `stytch.com/${PROJECT_ID}`);
  assert.deepEqual(claims.aud, [PROJECT_ID]);
  assert.equal(claims.sub, created.user_id);
  assert.equal(claims.exp - claims.iat, 300);
  assert.equal(claims[SESSION_CLAIM].id, created.session.session_id);
});

test("sessions.authenticateJwtLocal verifies Latch's JWT", async () => {
  const { resp: created } = await createUser({ sessionMinutes: 60 });
  const session = await client.sessions.authenticateJwtLocal({ session_jwt: created.session_jwt });
  assert.equal(session.session_id, created.session.session_id);
  assert.equal(session.user_id, created.user_id);
  assert.equal(session.authentication_factors[0].type, "password");
  assertStringArray(session.roles, "roles");
  assertTimestamp(session.started_at, "started_at");
  assertTimestamp(session.expires_at, "expires_at");
});

test("sessions.authenticateJwt verifies locally", async () => {
  const { resp: created } = await createUser({ sessionMinutes: 60 });
  const resp = await client.sessions.authenticateJwt({ session_jwt: created.session_jwt });
  // The local path answers {session, session_jwt}; a remote fallback adds request_id.
  assert.equal(resp.request_id, undefined, "authenticateJwt fell back to the API: local verification failed");
  assert.equal(resp.session.session_id, created.session.session_id);
  assert.equal(resp.session_jwt, created.session_jwt);
});

test("sessions.authenticateJwt with max_token_age_seconds 0 goes remote", async () => {
  const { resp: created } = await createUser({ sessionMinutes: 60 });
  const resp = await client.sessions.authenticateJwt({ session_jwt: created.session_jwt, max_token_age_seconds: 0 });
  assertMeta(resp);
  assert.equal(resp.session.session_id, created.session.session_id);
});

test("session custom claims reach the session, the JWT and local verification", async () => {
  const resp = await client.passwords.create({
    email: uniqueEmail(),
    password: strongPassword(),
    session_duration_minutes: 60,
    session_custom_claims: { plan: "pro", seats: 3, iss: "evil.example" },
  });
  assert.deepEqual(resp.session.custom_claims, { plan: "pro", seats: 3 });
  const { claims } = decodeJwt(resp.session_jwt);
  assert.equal(claims.plan, "pro");
  assert.equal(claims.iss, `stytch.com/${PROJECT_ID}`);
  const local = await client.sessions.authenticateJwtLocal({ session_jwt: resp.session_jwt });
  assert.equal(local.custom_claims.plan, "pro");
  assert.equal(local.custom_claims.seats, 3);
});

test("a tampered JWT fails local verification", async () => {
  const { resp: created } = await createUser({ sessionMinutes: 60 });
  const [h, p, s] = created.session_jwt.split(".");
  const claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
  claims.sub = "user-test-" + crypto.randomUUID();
  const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
  await assert.rejects(
    () => client.sessions.authenticateJwtLocal({ session_jwt: forged }),
    (err) => err instanceof stytch.ClientError && err.code === "jwt_invalid",
  );
});

// ------------------------------------------------------------------------------ users

test("users.get", async () => {
  const { email, resp: created } = await createUser();
  const resp = await client.users.get({ user_id: created.user_id });
  assertMeta(resp);
  // GetResponse is the User object's fields at top level.
  assertUser(resp, { user_id: created.user_id, email });
  assert.equal(resp.emails[0].email_id, created.email_id);
  assert.equal(resp.is_locked, false);
});

test("users.get: user_not_found", async () => {
  await expectError(() => client.users.get({ user_id: "user-test-" + crypto.randomUUID() }), "user_not_found", 404);
});

test("users.delete, then users.get is user_not_found", async () => {
  const { email, password, resp: created } = await createUser({ sessionMinutes: 60 });
  const resp = await client.users.delete({ user_id: created.user_id });
  assertMeta(resp);
  assert.equal(resp.user_id, created.user_id);
  await expectError(() => client.users.get({ user_id: created.user_id }), "user_not_found", 404);
  await expectError(() => client.passwords.authenticate({ email, password }), "email_not_found", 404);
  await assert.rejects(
    () => client.sessions.authenticate({ session_token: created.session_token }),
    (err) => err instanceof stytch.StytchError && ["session_not_found", "user_not_found"].includes(err.error_type),
  );
  await expectError(() => client.users.delete({ user_id: created.user_id }), "user_not_found", 404);
});

// ------------------------------------------------------------------------------ project credentials

const WRONG_SECRET_CALLS = {
  "passwords.create": (c) => c.passwords.create({ email: uniqueEmail(), password: strongPassword() }),
  "passwords.authenticate": (c) => c.passwords.authenticate({ email: uniqueEmail(), password: strongPassword() }),
  "passwords.strengthCheck": (c) => c.passwords.strengthCheck({ password: strongPassword() }),
  "sessions.authenticate": (c) => c.sessions.authenticate({ session_token: "x".repeat(44) }),
  "sessions.get": (c) => c.sessions.get({ user_id: "user-test-" + crypto.randomUUID() }),
  "users.get": (c) => c.users.get({ user_id: "user-test-" + crypto.randomUUID() }),
  "users.delete": (c) => c.users.delete({ user_id: "user-test-" + crypto.randomUUID() }),
  "passwords.email.resetStart": (c) => c.passwords.email.resetStart({ email: uniqueEmail() }),
  "passwords.email.reset": (c) => c.passwords.email.reset({ token: "x".repeat(43), password: strongPassword() }),
  "passwords.existingPassword.reset": (c) =>
    c.passwords.existingPassword.reset({
      email: uniqueEmail(),
      existing_password: strongPassword(),
      new_password: strongPassword(),
    }),
  "passwords.sessions.reset": (c) =>
    c.passwords.sessions.reset({ password: strongPassword(), session_token: "x".repeat(44) }),
  "magicLinks.authenticate": (c) => c.magicLinks.authenticate({ token: "x".repeat(43) }),
};

for (const [name, call] of Object.entries(WRONG_SECRET_CALLS)) {
  test(`wrong project secret: ${name} is unauthorized_credentials`, async () => {
    const bad = makeClient({ secret: SECRET + "-wrong" });
    await expectError(() => call(bad), "unauthorized_credentials", 401);
  });
}

test("unknown project id is unauthorized_credentials", async () => {
  const bad = makeClient({ project_id: "project-test-00000000-0000-4000-8000-000000000000" });
  await expectError(() => bad.passwords.strengthCheck({ password: strongPassword() }), "unauthorized_credentials", 401);
});

// ------------------------------------------------------------------------------ C5-C8, C13 resets and the magic link
//
// The reset email is read from the configured mail source (mail.js: the outbox, or moto's SES).
// Redirect URLs: DEFAULT_REDIRECT_URL, APP_RESET_URL and APP_LOGIN_URL (support.js).

// The reset_password and magic_links links among `candidates`: exactly one of each.
function pickLinks(ref, candidates, text) {
  const links = {};
  for (const kind of ["reset_password", "magic_links"]) {
    const hits = candidates.filter((l) => /^https?:\/\//.test(l) && l.includes(`stytch_token_type=${kind}`));
    assert.equal(hits.length, 1, `${ref}: expected one ${kind} link, found ${JSON.stringify(hits)}\n${text}`);
    const url = new URL(hits[0]);
    assert.deepEqual(url.searchParams.getAll("stytch_token_type"), [kind], hits[0]);
    const tokens = url.searchParams.getAll("token");
    assert.ok(tokens.length === 1 && tokens[0], `link should carry exactly one non-empty token: ${hits[0]}`);
    links[kind] = { link: hits[0], base: `${url.origin}${url.pathname}`, token: tokens[0] };
  }
  return links;
}

function readMail(ref) {
  const { label, to, text, candidates } = readRawMail(ref);
  const links = pickLinks(label, candidates, text);
  return { ref, to, text, reset: links.reset_password, login: links.magic_links };
}

// passwords.email.resetStart, then the one new message it wrote for `email`.
async function startReset(email, extra = {}) {
  const { resp, ref } = await withNewMessage(email, () => client.passwords.email.resetStart({ email, ...extra }));
  return { resp, mail: readMail(ref) };
}

function pkcePair() {
  const verifier = crypto.randomBytes(32).toString("base64url");
  const challenge = crypto.createHash("sha256").update(verifier).digest("base64url");
  return { verifier, challenge };
}

async function assertSessionGone(session_token) {
  await expectError(() => client.sessions.authenticate({ session_token }), "session_not_found", 404);
}

function assertResetResponse(resp, { user_id, email, minutes, factor = null }) {
  assertMeta(resp);
  assert.equal(resp.user_id, user_id);
  assertUser(resp.user, { user_id, email });
  if (minutes === undefined) {
    assertNoSession(resp);
  } else {
    assert.ok(resp.session_token && resp.session_jwt, "session_token and session_jwt");
    assertSession(resp.session, { user_id, minutes, factor });
  }
}

async function sessionIds(user_id) {
  const list = await client.sessions.get({ user_id });
  return list.sessions.map((s) => s.session_id).sort();
}

test("reset by email end to end: new password works, old one and old sessions do not", async () => {
  const { email, password: oldPassword, resp: created } = await createUser({ sessionMinutes: 60 });
  const other = await client.passwords.authenticate({ email, password: oldPassword, session_duration_minutes: 60 });

  const { resp: started, mail } = await startReset(email);
  assertMeta(started);
  assert.equal(started.user_id, created.user_id);
  assert.equal(started.email_id, created.email_id);
  assert.equal(mail.to, email);
  assert.ok(
    mail.reset.link.startsWith(`${DEFAULT_REDIRECT_URL}?stytch_token_type=reset_password&token=`),
    mail.reset.link,
  );
  assert.ok(mail.login.link.startsWith(`${DEFAULT_REDIRECT_URL}?stytch_token_type=magic_links&token=`), mail.login.link);
  assert.notEqual(mail.reset.token, mail.login.token);

  const newPassword = strongPassword();
  const resp = await client.passwords.email.reset({
    token: mail.reset.token,
    password: newPassword,
    session_duration_minutes: 30,
  });
  assertResetResponse(resp, { user_id: created.user_id, email, minutes: 30 });
  assert.equal(resp.user.emails[0].verified, true, "redeeming the emailed token proves the email");

  await assertSessionGone(created.session_token);
  await assertSessionGone(other.session_token);
  const fresh = await client.sessions.authenticate({ session_token: resp.session_token });
  assert.equal(fresh.session.session_id, resp.session.session_id);
  assert.deepEqual(await sessionIds(created.user_id), [resp.session.session_id]);

  const login = await client.passwords.authenticate({ email, password: newPassword });
  assert.equal(login.user_id, created.user_id);
  await expectError(
    () => client.passwords.authenticate({ email, password: oldPassword }),
    "unauthorized_credentials",
    401,
  );
});

test("reset by email without session_duration_minutes creates no session", async () => {
  const { email, resp: created } = await createUser();
  const { mail } = await startReset(email);
  const resp = await client.passwords.email.reset({ token: mail.reset.token, password: strongPassword() });
  assertResetResponse(resp, { user_id: created.user_id, email });
  assert.deepEqual(await sessionIds(created.user_id), []);
});

test("resetStart uses the requested redirect URLs", async () => {
  const { email } = await createUser();
  const { mail } = await startReset(email, {
    reset_password_redirect_url: APP_RESET_URL,
    login_redirect_url: APP_LOGIN_URL,
  });
  assert.equal(mail.reset.base, APP_RESET_URL, mail.reset.link);
  assert.equal(mail.login.base, APP_LOGIN_URL, mail.login.link);
});

test("reset token is single use: unable_to_auth_password_reset_token", async () => {
  const { email, resp: created } = await createUser();
  const { mail } = await startReset(email);
  const second = strongPassword();
  await client.passwords.email.reset({ token: mail.reset.token, password: second });
  await expectError(
    () => client.passwords.email.reset({ token: mail.reset.token, password: strongPassword() }),
    "unable_to_auth_password_reset_token",
    401,
  );
  const login = await client.passwords.authenticate({ email, password: second });
  assert.equal(login.user_id, created.user_id);
});

test("resetStart: unlisted reset_password_redirect_url is invalid_password_reset_redirect_url", async () => {
  const { email } = await createUser();
  await expectError(
    () => client.passwords.email.resetStart({ email, reset_password_redirect_url: "https://evil.example.com/authenticate" }),
    "invalid_password_reset_redirect_url",
    400,
  );
  assert.deepEqual(await messagesTo(email), [], "a refused resetStart must not send an email");
});

test("resetStart: unlisted login_redirect_url is invalid_login_redirect_url", async () => {
  const { email } = await createUser();
  await expectError(
    () => client.passwords.email.resetStart({ email, login_redirect_url: "https://evil.example.com/authenticate" }),
    "invalid_login_redirect_url",
    400,
  );
  assert.deepEqual(await messagesTo(email), []);
});

test("resetStart: email_not_found", async () => {
  const email = uniqueEmail();
  await expectError(() => client.passwords.email.resetStart({ email }), "email_not_found", 404);
  assert.deepEqual(await messagesTo(email), []);
});

test("reset by email with PKCE: wrong verifier is pkce_mismatch, right one succeeds", async () => {
  const { email, resp: created } = await createUser({ sessionMinutes: 60 });
  const { verifier, challenge } = pkcePair();
  const { mail } = await startReset(email, { code_challenge: challenge });
  const newPassword = strongPassword();

  await expectError(
    () =>
      client.passwords.email.reset({
        token: mail.reset.token,
        password: newPassword,
        code_verifier: pkcePair().verifier,
      }),
    "pkce_mismatch",
    401,
  );
  await expectError(
    () => client.passwords.email.reset({ token: mail.reset.token, password: newPassword }),
    "pkce_expected_code_verifier",
    400,
  );
  // Neither refusal used the token up or changed anything.
  await client.sessions.authenticate({ session_token: created.session_token });

  const resp = await client.passwords.email.reset({
    token: mail.reset.token,
    password: newPassword,
    code_verifier: verifier,
    session_duration_minutes: 30,
  });
  assertResetResponse(resp, { user_id: created.user_id, email, minutes: 30 });
  await assertSessionGone(created.session_token);
  await client.passwords.authenticate({ email, password: newPassword });
});

test("magicLinks.authenticate logs in once; a second use is unable_to_auth_magic_link", async () => {
  const { email, password, resp: created } = await createUser();
  const { mail } = await startReset(email);
  const resp = await client.magicLinks.authenticate({ token: mail.login.token, session_duration_minutes: 60 });
  assertMeta(resp);
  assert.equal(resp.user_id, created.user_id);
  assert.equal(resp.method_id, created.email_id);
  assert.equal(typeof resp.reset_sessions, "boolean", "reset_sessions is a required boolean");
  assert.ok(resp.session_token && resp.session_jwt);
  assertSession(resp.session, { user_id: created.user_id, minutes: 60, factor: ["magic_link", "email"] });
  const ef = resp.session.authentication_factors[0].email_factor;
  assert.ok(ef, "a magic-link factor carries email_factor");
  assert.equal(ef.email_address, email);
  assert.equal(ef.email_id, created.email_id);
  // The email's first proof flags the password set before it (account pre-hijacking).
  assertUser(resp.user, { user_id: created.user_id, email, requires_reset: true });
  assert.equal(resp.user.emails[0].verified, true);
  const again = await client.sessions.authenticate({ session_token: resp.session_token });
  assert.equal(again.session.session_id, resp.session.session_id);

  await expectError(
    () => client.magicLinks.authenticate({ token: mail.login.token, session_duration_minutes: 60 }),
    "unable_to_auth_magic_link",
    401,
  );
  // The link was the email's first proof and the password predates it (account pre-hijacking):
  // the password now needs a reset.
  await expectError(() => client.passwords.authenticate({ email, password }), "reset_password", 401);
});

test("existingPassword.reset revokes every session; the new password works", async () => {
  const { email, password: oldPassword, resp: created } = await createUser({ sessionMinutes: 60 });
  const other = await client.passwords.authenticate({ email, password: oldPassword, session_duration_minutes: 60 });
  const newPassword = strongPassword();
  const resp = await client.passwords.existingPassword.reset({
    email,
    existing_password: oldPassword,
    new_password: newPassword,
    session_duration_minutes: 45,
  });
  assertResetResponse(resp, { user_id: created.user_id, email, minutes: 45, factor: ["password", "knowledge"] });
  await assertSessionGone(created.session_token);
  await assertSessionGone(other.session_token);
  const fresh = await client.sessions.authenticate({ session_token: resp.session_token });
  assert.equal(fresh.session.session_id, resp.session.session_id);
  assert.deepEqual(await sessionIds(created.user_id), [resp.session.session_id]);
  await client.passwords.authenticate({ email, password: newPassword });
  await expectError(
    () => client.passwords.authenticate({ email, password: oldPassword }),
    "unauthorized_credentials",
    401,
  );
});

test("existingPassword.reset: wrong existing password is unauthorized_credentials", async () => {
  const { email, password, resp: created } = await createUser({ sessionMinutes: 60 });
  const newPassword = strongPassword();
  await expectError(
    () =>
      client.passwords.existingPassword.reset({
        email,
        existing_password: password + "x",
        new_password: newPassword,
      }),
    "unauthorized_credentials",
    401,
  );
  await client.passwords.authenticate({ email, password });
  await client.sessions.authenticate({ session_token: created.session_token });
});

test("passwords.sessions.reset keeps the session used and revokes the others", async () => {
  const { email, password: oldPassword, resp: created } = await createUser({ sessionMinutes: 60 });
  const other = await client.passwords.authenticate({ email, password: oldPassword, session_duration_minutes: 60 });
  const newPassword = strongPassword();
  const resp = await client.passwords.sessions.reset({
    password: newPassword,
    session_token: created.session_token,
    session_duration_minutes: 120,
  });
  assertResetResponse(resp, { user_id: created.user_id, email, minutes: 120, factor: ["password", "knowledge"] });
  assert.equal(resp.session.session_id, created.session.session_id, "session reset keeps the session it was given");
  assert.equal(resp.session_token, created.session_token);

  const still = await client.sessions.authenticate({ session_token: created.session_token });
  assert.equal(still.session.session_id, created.session.session_id);
  await assertSessionGone(other.session_token);
  assert.deepEqual(await sessionIds(created.user_id), [created.session.session_id]);
  await client.passwords.authenticate({ email, password: newPassword });
  await expectError(
    () => client.passwords.authenticate({ email, password: oldPassword }),
    "unauthorized_credentials",
    401,
  );
});
