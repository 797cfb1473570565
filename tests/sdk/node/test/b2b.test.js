// Latch's B2B half driven by the official Stytch Node SDK's `B2BClient` (npm `stytch`, pinned in
// package.json).
//
// Contract: docs/b2b.md, and docs/reference/stytch-api.md §5 B1-B21 (B11 migrate excepted), §6,
// §7, §8, §14. The Node SDK returns response JSON untouched, so the shape checks below restate
// the fields the Python SDK's pydantic models require (§6): a body that Node accepts but Python
// would reject fails here too.
//
// Flows: seed 004 (email JIT signup by magic link -> password set by session reset -> password
// login -> reset by email) and seed 002's MFA step with TOTP (org REQUIRED_FOR_ALL: password ->
// intermediate session -> TOTP registration -> RFC 6238 code -> member session, its JWT verified
// locally with the organization claim); recovery codes (recover, get, rotate) and sessions.exchange.
//
// Environment (set by scripts/sdk-tests.sh): LATCH_URL, LATCH_PROJECT_ID, LATCH_SECRET,
// HIBP_STUB_URL, and the mail source: LATCH_OUTBOX_DIR (one .eml per message), or with
// LATCH_MAIL_SOURCE=ses the moto server at AWS_ENDPOINT_URL.
// Run: node --test --test-timeout=60000 test/b2b.test.js

"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const stytch = require("stytch");
const { watchdog, serverEnv, makeSdkClient, decodeJwt, expectError, assertMeta, assertTimestamp } = require("./support");
const { BREACHED_AT_START, WEAK_PASSWORD, SESSION_CLAIM, DEFAULT_REDIRECT_URL, APP_LOGIN_URL } = require("./support");
const { MAIL_WATCHDOG_MINUTES, messagesTo, readRawMail, withNewMessage } = require("./mail");
const { totpStep, totpCode } = require("./totp");

watchdog("b2b.test.js", MAIL_WATCHDOG_MINUTES);

const { BASE, PROJECT_ID, SECRET } = serverEnv(["HIBP_STUB_URL"]);

const ORG_CLAIM = "https://stytch.com/organization";
const ML = "multi_tenant_magic_links";
const PW = "multi_tenant_passwords";

const makeB2B = ({ project_id = PROJECT_ID, secret = SECRET } = {}) =>
  makeSdkClient(stytch.B2BClient, { project_id, secret, base: BASE });

const b2b = makeB2B();

// ------------------------------------------------------------------------------ helpers

const uid = () => crypto.randomBytes(6).toString("hex");
const uniqueEmail = (domain = "example.com") => `sdk-node-b2b-${crypto.randomBytes(8).toString("hex")}@${domain}`;
const strongPassword = () => `Latch-${crypto.randomBytes(10).toString("hex")}-B2b!`;

function assertNear(value, minutes, what) {
  assertTimestamp(value, what);
  const remaining = (Date.parse(value) - Date.now()) / 1000;
  assert.ok(Math.abs(remaining - minutes * 60) < 120, `${what} should be ~${minutes} min from now: ${value}`);
}

const isStr = (v) => typeof v === "string";
const isBool = (v) => typeof v === "boolean";

function assertFields(obj, spec, what) {
  assert.ok(obj && typeof obj === "object", `${what} must be an object: ${JSON.stringify(obj)}`);
  for (const [key, kind] of Object.entries(spec)) {
    const v = obj[key];
    if (kind === "string") assert.ok(isStr(v), `${what}.${key} must be a string: ${JSON.stringify(v)}`);
    else if (kind === "bool") assert.ok(isBool(v), `${what}.${key} must be a boolean: ${JSON.stringify(v)}`);
    else if (kind === "array") assert.ok(Array.isArray(v), `${what}.${key} must be an array: ${JSON.stringify(v)}`);
    else if (kind === "strings") {
      assert.ok(Array.isArray(v) && v.every(isStr), `${what}.${key} must be a string array: ${JSON.stringify(v)}`);
    } else throw new Error(`bad spec ${kind}`);
  }
}

// The required fields of b2b.models.organizations.Organization (§6.1).
function assertOrganization(org, { organization_id, slug } = {}) {
  assertFields(
    org,
    {
      organization_id: "string",
      organization_name: "string",
      organization_logo_url: "string",
      organization_slug: "string",
      sso_jit_provisioning: "string",
      sso_jit_provisioning_allowed_connections: "strings",
      sso_active_connections: "array",
      email_allowed_domains: "strings",
      email_jit_provisioning: "string",
      email_invites: "string",
      auth_methods: "string",
      allowed_auth_methods: "strings",
      mfa_policy: "string",
      rbac_email_implicit_role_assignments: "array",
      mfa_methods: "string",
      allowed_mfa_methods: "strings",
      oauth_tenant_jit_provisioning: "string",
      claimed_email_domains: "strings",
      first_party_connected_apps_allowed_type: "string",
      allowed_first_party_connected_apps: "strings",
      third_party_connected_apps_allowed_type: "string",
      allowed_third_party_connected_apps: "strings",
      custom_roles: "array",
    },
    "organization",
  );
  assertTimestamp(org.created_at, "organization.created_at", { optional: true });
  assertTimestamp(org.updated_at, "organization.updated_at", { optional: true });
  if (organization_id !== undefined) assert.equal(org.organization_id, organization_id);
  if (slug !== undefined) assert.equal(org.organization_slug, slug);
}

// The required fields of b2b.models.organizations.Member (§6.1).
function assertMember(member, { org, email, member_id, status = "active" }) {
  assertFields(
    member,
    {
      organization_id: "string",
      member_id: "string",
      email_address: "string",
      status: "string",
      name: "string",
      sso_registrations: "array",
      is_breakglass: "bool",
      member_password_id: "string",
      oauth_registrations: "array",
      email_address_verified: "bool",
      mfa_phone_number_verified: "bool",
      is_admin: "bool",
      totp_registration_id: "string",
      retired_email_addresses: "array",
      is_locked: "bool",
      mfa_enrolled: "bool",
      mfa_phone_number: "string",
      default_mfa_method: "string",
      roles: "array",
    },
    "member",
  );
  for (const role of member.roles) {
    assertFields(role, { role_id: "string", sources: "array" }, "member.roles[]");
    for (const s of role.sources) assertFields(s, { type: "string" }, "member.roles[].sources[]");
  }
  assertTimestamp(member.created_at, "member.created_at", { optional: true });
  assertTimestamp(member.updated_at, "member.updated_at", { optional: true });
  assert.equal(member.organization_id, org.organization_id);
  assert.ok(member.member_id.startsWith("member-"), member.member_id);
  if (member_id !== undefined) assert.equal(member.member_id, member_id);
  assert.equal(member.email_address, email);
  assert.equal(member.status, status);
  assert.equal(member.is_locked, false);
}

const FACTOR_DELIVERY = {
  password: "knowledge",
  magic_link: "email",
  totp: "authenticator_app",
  recovery_codes: "recovery_code",
};

// The required fields of b2b.models.sessions.MemberSession (§6.1) and its factors.
function assertMemberSession(ms, { member_id, org, minutes = 60, factors }) {
  assertFields(
    ms,
    {
      member_session_id: "string",
      member_id: "string",
      organization_id: "string",
      organization_slug: "string",
      authentication_factors: "array",
      roles: "strings",
    },
    "member_session",
  );
  assert.ok(ms.member_session_id);
  assert.equal(ms.member_id, member_id);
  assert.equal(ms.organization_id, org.organization_id);
  assert.equal(ms.organization_slug, org.organization_slug);
  assert.deepEqual(ms.roles, ["stytch_member"]);
  assertTimestamp(ms.started_at, "member_session.started_at");
  assertTimestamp(ms.last_accessed_at, "member_session.last_accessed_at");
  assertNear(ms.expires_at, minutes, "member_session.expires_at");
  for (const f of ms.authentication_factors) {
    assert.ok(f.type in FACTOR_DELIVERY, `unexpected factor ${JSON.stringify(f)}`);
    assert.equal(f.delivery_method, FACTOR_DELIVERY[f.type], JSON.stringify(f));
    if (f.type === "magic_link") assertFields(f.email_factor, { email_id: "string", email_address: "string" }, "email_factor");
    if (f.type === "totp") assertFields(f.authenticator_app_factor, { totp_id: "string" }, "authenticator_app_factor");
  }
  if (factors !== undefined) {
    assert.deepEqual(ms.authentication_factors.map((f) => f.type).sort(), [...factors].sort());
  }
}

// A primary-auth response that started (or kept) a member session.
function assertAuthenticated(resp, { member_id, org, minutes = 60, factors }) {
  assertMeta(resp);
  assert.equal(resp.member_authenticated, true);
  assert.equal(resp.member_id, member_id);
  assert.ok(isStr(resp.session_token) && resp.session_token && isStr(resp.session_jwt) && resp.session_jwt);
  assert.equal(resp.intermediate_session_token, "");
  assert.ok(resp.mfa_required === undefined || resp.mfa_required === null, "mfa_required must be absent or null");
  assertOrganization(resp.organization, { organization_id: org.organization_id });
  assert.equal(resp.member.member_id, member_id);
  assertMemberSession(resp.member_session, { member_id, org, minutes, factors });
}

// A primary-auth response that stopped at MFA (docs/b2b.md "The MFA rule" 2); returns the IST.
function assertMfaRequired(resp, { member_id, org, totp_registration_id = "" }) {
  assertMeta(resp);
  assert.equal(resp.member_authenticated, false);
  assert.equal(resp.member_id, member_id);
  assert.ok(resp.member_session === undefined || resp.member_session === null, "member_session must be null");
  assert.equal(resp.session_token, "");
  assert.equal(resp.session_jwt, "");
  assert.ok(isStr(resp.intermediate_session_token) && resp.intermediate_session_token, "intermediate_session_token");
  assertNear(resp.intermediate_session_token_expires_at, 10, "intermediate_session_token_expires_at");
  assert.ok(resp.mfa_required, "mfa_required");
  assert.equal(resp.mfa_required.secondary_auth_initiated ?? null, null);
  assert.deepEqual(resp.mfa_required.member_options, { mfa_phone_number: "", totp_registration_id });
  assertOrganization(resp.organization, { organization_id: org.organization_id });
  assertMember(resp.member, { org, email: resp.member.email_address, member_id });
  return resp.intermediate_session_token;
}

// The SDK's local verifier accepts the JWT against Latch's B2B JWKS; the claims match.
async function assertJwtVerifiesLocally(session_jwt, { member_id, org, session_id, factors }) {
  const { header, claims } = decodeJwt(session_jwt);
  assert.equal(header.alg, "RS256");
  assert.equal(header.typ, "JWT");
  assert.ok(header.kid);
  assert.equal(claims.iss, `stytch.com/${PROJECT_ID}`);
  assert.deepEqual(claims.aud, [PROJECT_ID]);
  assert.equal(claims.sub, member_id);
  assert.equal(claims.exp - claims.iat, 300);
  assert.deepEqual(claims[ORG_CLAIM], { organization_id: org.organization_id, slug: org.organization_slug });
  assert.equal(claims[SESSION_CLAIM].id, session_id);
  const local = await b2b.sessions.authenticateJwtLocal({ session_jwt });
  assert.equal(local.member_session_id, session_id);
  assert.equal(local.member_id, member_id);
  assert.equal(local.organization_id, org.organization_id);
  assert.equal(local.organization_slug, org.organization_slug);
  assert.deepEqual(local.roles, ["stytch_member"]);
  assert.deepEqual(local.authentication_factors.map((f) => f.type).sort(), [...factors].sort());
  assertTimestamp(local.started_at, "local.started_at");
  assertTimestamp(local.expires_at, "local.expires_at");
  return local;
}

async function newOrg(extra = {}) {
  const tag = uid();
  const req = { organization_name: `SDK node B2B ${tag}`, organization_slug: `sdk-node-${tag}`, ...extra };
  const resp = await b2b.organizations.create(req);
  assertMeta(resp);
  assertOrganization(resp.organization, { slug: req.organization_slug });
  assert.ok(resp.organization.organization_id.startsWith("organization-"), resp.organization.organization_id);
  assert.equal(resp.organization.organization_name, req.organization_name);
  return resp.organization;
}

async function assertSessionGone(session_token) {
  await expectError(() => b2b.sessions.authenticate({ session_token }), "session_not_found", 404);
}

// ------------------------------------------------------------------------------ mail
//
// The mail is read from the configured mail source (mail.js: the server's outbox, or moto's
// record of the mail Latch sent through SES). Every link with a stytch_token_type is collected,
// by type.

// Every http(s) link among `candidates` with exactly one stytch_token_type, grouped by that type.
function groupLinks(candidates) {
  const links = {};
  for (const l of candidates) {
    if (!/^https?:\/\//.test(l) || !l.includes("stytch_token_type=")) continue;
    const url = new URL(l);
    const types = url.searchParams.getAll("stytch_token_type");
    assert.equal(types.length, 1, `link should carry exactly one stytch_token_type: ${l}`);
    const tokens = url.searchParams.getAll("token");
    assert.ok(tokens.length === 1 && tokens[0], `link should carry exactly one non-empty token: ${l}`);
    (links[types[0]] ||= []).push({ link: l, base: `${url.origin}${url.pathname}`, token: tokens[0] });
  }
  return links;
}

function readMail(ref) {
  const { to, text, candidates } = readRawMail(ref);
  return { ref, to, text, links: groupLinks(candidates) };
}

// The one link of `kind` in `mail`.
function link(mail, kind) {
  const hits = mail.links[kind] || [];
  assert.equal(hits.length, 1, `${mail.ref}: expected one ${kind} link, found ${JSON.stringify(mail.links)}\n${mail.text}`);
  return hits[0];
}

// Run `call`, then return [its result, the one new message it sent to `email`].
async function withNewMail(email, call) {
  const { resp, ref } = await withNewMessage(email, call);
  return [resp, readMail(ref)];
}

const startReset = (org, email, extra = {}) =>
  withNewMail(email, () =>
    b2b.passwords.email.resetStart({ organization_id: org.organization_id, email_address: email, ...extra }),
  );

const loginOrSignup = (org, email, extra = {}) =>
  withNewMail(email, () =>
    b2b.magicLinks.email.loginOrSignup({ organization_id: org.organization_id, email_address: email, ...extra }),
  );

// A member of `org` whose password is set through the emailed reset link.
async function memberWithPassword(org, email = uniqueEmail()) {
  const created = await b2b.organizations.members.create({ organization_id: org.organization_id, email_address: email });
  assertMeta(created);
  const [, mail] = await startReset(org, email);
  const password = strongPassword();
  const reset = await b2b.passwords.email.reset({ password_reset_token: link(mail, PW).token, password });
  assertMeta(reset);
  return { email, password, member_id: created.member_id, reset };
}

// ------------------------------------------------------------------------------ RFC 6238 TOTP (totp.js)

function wrongCode(secret) {
  const near = new Set([-2, -1, 0, 1, 2].map((d) => totpCode(secret, totpStep() + d)));
  for (let n = 0; n < 1000000; n += 111111) {
    const c = String(n).padStart(6, "0");
    if (!near.has(c)) return c;
  }
  throw new Error("unreachable");
}

test("TOTP helper matches the RFC 6238 SHA-1 vector", () => {
  // RFC 6238 appendix B, T = 59 s: 94287082 -> 287082 with 6 digits.
  const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // base32 of "12345678901234567890"
  assert.equal(totpCode(secret, Math.floor(59 / 30)), "287082");
});

// ------------------------------------------------------------------------------ B1-B4 organizations

test("organizations: create with defaults, get by id and slug, update, delete", async () => {
  const org = await newOrg();
  assert.equal(org.email_jit_provisioning, "NOT_ALLOWED");
  assert.equal(org.sso_jit_provisioning, "ALL_ALLOWED");
  assert.equal(org.auth_methods, "ALL_ALLOWED");
  assert.equal(org.mfa_policy, "OPTIONAL");
  assert.equal(org.mfa_methods, "ALL_ALLOWED");
  assert.equal(org.email_invites, "ALL_ALLOWED");
  assert.deepEqual(org.email_allowed_domains, []);

  for (const key of [org.organization_id, org.organization_slug]) {
    const got = await b2b.organizations.get({ organization_id: key });
    assertMeta(got);
    assertOrganization(got.organization, { organization_id: org.organization_id, slug: org.organization_slug });
  }

  const name = `${org.organization_name} renamed`;
  const upd = await b2b.organizations.update({
    organization_id: org.organization_id,
    organization_name: name,
    mfa_policy: "REQUIRED_FOR_ALL",
    email_allowed_domains: ["Example.COM"],
  });
  assertMeta(upd);
  assertOrganization(upd.organization, { organization_id: org.organization_id, slug: org.organization_slug });
  assert.equal(upd.organization.organization_name, name);
  assert.equal(upd.organization.mfa_policy, "REQUIRED_FOR_ALL");
  assert.deepEqual(upd.organization.email_allowed_domains, ["example.com"]);
  assert.equal(upd.organization.email_jit_provisioning, "NOT_ALLOWED", "update replaces only the fields sent");

  const del = await b2b.organizations.delete({ organization_id: org.organization_id });
  assertMeta(del);
  assert.equal(del.organization_id, org.organization_id);
  await expectError(() => b2b.organizations.get({ organization_id: org.organization_id }), "organization_not_found", 404);
});

test("organizations: slug_already_used, invalid slug, bad enum", async () => {
  const org = await newOrg();
  await expectError(
    () => b2b.organizations.create({ organization_name: "dup", organization_slug: org.organization_slug }),
    "organization_slug_already_used",
    400,
  );
  await expectError(
    () => b2b.organizations.create({ organization_name: "bad", organization_slug: "no spaces allowed" }),
    "invalid_organization_slug",
    400,
  );
  await expectError(
    () => b2b.organizations.update({ organization_id: org.organization_id, mfa_policy: "SOMETIMES" }),
    "bad_request",
    400,
  );
});

// ------------------------------------------------------------------------------ B5-B6 members

test("members: create, create pending, get by id and email, errors", async () => {
  const org = await newOrg();
  const email = uniqueEmail();
  const created = await b2b.organizations.members.create({ organization_id: org.organization_id, email_address: email });
  assertMeta(created);
  assert.ok(created.member_id.startsWith("member-test-"), created.member_id);
  assertMember(created.member, { org, email, member_id: created.member_id });
  assertOrganization(created.organization, { organization_id: org.organization_id });
  assert.equal(created.member.totp_registration_id, "");

  const pendingEmail = uniqueEmail();
  const pending = await b2b.organizations.members.create({
    organization_id: org.organization_id,
    email_address: pendingEmail,
    create_member_as_pending: true,
  });
  assertMember(pending.member, { org, email: pendingEmail, status: "pending" });

  const byId = await b2b.organizations.members.get({ organization_id: org.organization_id, member_id: created.member_id });
  assertMeta(byId);
  assert.equal(byId.member_id, created.member_id);
  assertMember(byId.member, { org, email, member_id: created.member_id });
  assertOrganization(byId.organization, { organization_id: org.organization_id });
  const byEmail = await b2b.organizations.members.get({ organization_id: org.organization_slug, email_address: email });
  assert.equal(byEmail.member_id, created.member_id);

  await expectError(
    () => b2b.organizations.members.create({ organization_id: org.organization_id, email_address: email }),
    "duplicate_member_email",
    400,
  );
  await expectError(
    () => b2b.organizations.members.get({ organization_id: org.organization_id }),
    "invalid_member_get_fields",
    400,
  );
  await expectError(
    () => b2b.organizations.members.get({ organization_id: org.organization_id, email_address: uniqueEmail() }),
    "member_not_found",
    404,
  );
});

// ------------------------------------------------------------------------------ seed 004

test("seed 004: JIT signup by magic link, session reset, password login, reset by email", async () => {
  const org = await newOrg({ email_jit_provisioning: "RESTRICTED", email_allowed_domains: ["example.com"] });
  assert.equal(org.email_jit_provisioning, "RESTRICTED");
  const email = uniqueEmail();

  const [signup, mail] = await loginOrSignup(org, email);
  assertMeta(signup);
  assert.equal(signup.member_created, true);
  assertMember(signup.member, { org, email, member_id: signup.member_id, status: "pending" });
  assertOrganization(signup.organization, { organization_id: org.organization_id });
  assert.equal(mail.to, email);
  assert.deepEqual(Object.keys(mail.links), [ML], JSON.stringify(mail.links));
  const signupLink = link(mail, ML);
  assert.ok(signupLink.link.startsWith(`${DEFAULT_REDIRECT_URL}?stytch_token_type=${ML}&token=`), signupLink.link);

  const auth = await b2b.magicLinks.authenticate({ magic_links_token: signupLink.token });
  assertAuthenticated(auth, { member_id: signup.member_id, org, factors: ["magic_link"] });
  assert.equal(auth.organization_id, org.organization_id);
  assert.equal(typeof auth.reset_sessions, "boolean");
  assert.ok(isStr(auth.method_id) && auth.method_id, "method_id");
  assertMember(auth.member, { org, email, member_id: signup.member_id, status: "active" });
  assert.equal(auth.member.email_address_verified, true);
  assert.equal(auth.member_session.authentication_factors[0].email_factor.email_address, email);
  await assertJwtVerifiesLocally(auth.session_jwt, {
    member_id: signup.member_id,
    org,
    session_id: auth.member_session.member_session_id,
    factors: ["magic_link"],
  });
  await expectError(
    () => b2b.magicLinks.authenticate({ magic_links_token: signupLink.token }),
    "unable_to_auth_magic_link",
    401,
  );

  const password = strongPassword();
  const reset = await b2b.passwords.sessions.reset({
    organization_id: org.organization_id,
    password,
    session_token: auth.session_token,
  });
  assertMeta(reset);
  assert.equal(reset.member_authenticated, true);
  assert.equal(reset.member_id, signup.member_id);
  assertMember(reset.member, { org, email, member_id: signup.member_id });
  assert.ok(reset.member.member_password_id, "the member has a password now");
  assertMemberSession(reset.member_session, { member_id: signup.member_id, org });
  assert.equal(reset.member_session.member_session_id, auth.member_session.member_session_id);
  const still = await b2b.sessions.authenticate({ session_token: auth.session_token });
  assertMeta(still);
  assertMemberSession(still.member_session, { member_id: signup.member_id, org });
  assertMember(still.member, { org, email, member_id: signup.member_id });
  assertOrganization(still.organization, { organization_id: org.organization_id });

  const login = await b2b.passwords.authenticate({ organization_id: org.organization_id, email_address: email, password });
  assertAuthenticated(login, { member_id: signup.member_id, org, factors: ["password"] });
  const list = await b2b.sessions.get({ organization_id: org.organization_id, member_id: signup.member_id });
  assertMeta(list);
  for (const s of list.member_sessions) assertMemberSession(s, { member_id: signup.member_id, org });
  assert.deepEqual(
    list.member_sessions.map((s) => s.member_session_id).sort(),
    [auth.member_session.member_session_id, login.member_session.member_session_id].sort(),
  );

  const [started, resetMail] = await startReset(org, email);
  assertMeta(started);
  assert.equal(started.member_id, signup.member_id);
  assert.ok(isStr(started.member_email_id) && started.member_email_id);
  assertMember(started.member, { org, email, member_id: signup.member_id });
  assert.deepEqual(Object.keys(resetMail.links).sort(), [ML, PW].sort(), JSON.stringify(resetMail.links));
  const newPassword = strongPassword();
  const done = await b2b.passwords.email.reset({
    password_reset_token: link(resetMail, PW).token,
    password: newPassword,
    session_duration_minutes: 30,
  });
  assertAuthenticated(done, { member_id: signup.member_id, org, minutes: 30 });
  assert.equal(done.member_email_id, started.member_email_id);
  await assertSessionGone(auth.session_token);
  await assertSessionGone(login.session_token);

  const again = await b2b.passwords.authenticate({
    organization_id: org.organization_id,
    email_address: email,
    password: newPassword,
  });
  assertAuthenticated(again, { member_id: signup.member_id, org, factors: ["password"] });
  await expectError(
    () => b2b.passwords.authenticate({ organization_id: org.organization_id, email_address: email, password }),
    "unauthorized_credentials",
    401,
  );
});

test("loginOrSignup: JIT refusals are 403 and send nothing", async () => {
  const closed = await newOrg();
  const email = uniqueEmail();
  await expectError(
    () => b2b.magicLinks.email.loginOrSignup({ organization_id: closed.organization_id, email_address: email }),
    "email_jit_provisioning_not_allowed",
    403,
  );
  const restricted = await newOrg({ email_jit_provisioning: "RESTRICTED", email_allowed_domains: ["example.com"] });
  const other = uniqueEmail("example.org");
  await expectError(
    () => b2b.magicLinks.email.loginOrSignup({ organization_id: restricted.organization_id, email_address: other }),
    "invalid_email_for_jit_provisioning",
    403,
  );
  assert.deepEqual(await messagesTo(email), []);
  assert.deepEqual(await messagesTo(other), []);
});

test("loginOrSignup: an existing member gets a login link to login_redirect_url", async () => {
  const org = await newOrg();
  const email = uniqueEmail();
  const created = await b2b.organizations.members.create({ organization_id: org.organization_id, email_address: email });
  const [resp, mail] = await loginOrSignup(org, email, { login_redirect_url: APP_LOGIN_URL });
  assertMeta(resp);
  assert.equal(resp.member_created, false);
  assert.equal(resp.member_id, created.member_id);
  assertMember(resp.member, { org, email, member_id: created.member_id });
  assert.equal(link(mail, ML).base, APP_LOGIN_URL);
  const auth = await b2b.magicLinks.authenticate({ magic_links_token: link(mail, ML).token, session_duration_minutes: 45 });
  assertAuthenticated(auth, { member_id: created.member_id, org, minutes: 45, factors: ["magic_link"] });
});

// ------------------------------------------------------------------------------ passwords

test("passwords.strengthCheck: weak, strong, breached", async () => {
  const weak = await b2b.passwords.strengthCheck({ password: WEAK_PASSWORD });
  assertMeta(weak);
  assert.equal(weak.valid_password, false);
  assert.ok(Number.isInteger(weak.score) && weak.score >= 0 && weak.score < 3, `score ${weak.score}`);
  assert.equal(weak.strength_policy, "zxcvbn");
  assert.equal(weak.breach_detection_on_create, true);
  assert.equal(typeof weak.breached_password, "boolean");
  assertFields(weak.zxcvbn_feedback, { warning: "string", suggestions: "strings" }, "zxcvbn_feedback");
  assert.ok(weak.zxcvbn_feedback.warning && weak.zxcvbn_feedback.suggestions.length > 0);
  if (weak.luds_feedback !== undefined && weak.luds_feedback !== null) {
    assertFields(
      weak.luds_feedback,
      { has_lower_case: "bool", has_upper_case: "bool", has_digit: "bool", has_symbol: "bool" },
      "luds_feedback",
    );
  }

  const strong = await b2b.passwords.strengthCheck({ password: strongPassword() });
  assert.equal(strong.valid_password, true);
  assert.equal(strong.breached_password, false);

  const breached = await b2b.passwords.strengthCheck({ password: BREACHED_AT_START, email_address: uniqueEmail() });
  assert.equal(breached.breached_password, true);
  assert.equal(breached.valid_password, false);
});

test("existingPassword.reset revokes every session; wrong existing password is unauthorized_credentials", async () => {
  const org = await newOrg();
  const { email, password, member_id, reset: first } = await memberWithPassword(org);
  const newPassword = strongPassword();
  await expectError(
    () =>
      b2b.passwords.existingPassword.reset({
        organization_id: org.organization_id,
        email_address: email,
        existing_password: password + "x",
        new_password: newPassword,
      }),
    "unauthorized_credentials",
    401,
  );
  const resp = await b2b.passwords.existingPassword.reset({
    organization_id: org.organization_id,
    email_address: email,
    existing_password: password,
    new_password: newPassword,
    session_duration_minutes: 45,
  });
  assertAuthenticated(resp, { member_id, org, minutes: 45, factors: ["password"] });
  await assertSessionGone(first.session_token);
  await b2b.passwords.authenticate({ organization_id: org.organization_id, email_address: email, password: newPassword });
});

// ------------------------------------------------------------------------------ sessions and JWTs

test("sessions.revoke by member_session_id, session_jwt, member_id", async () => {
  const org = await newOrg();
  const { email, password, member_id, reset: first } = await memberWithPassword(org);
  const second = await b2b.passwords.authenticate({ organization_id: org.organization_id, email_address: email, password });
  const third = await b2b.passwords.authenticate({ organization_id: org.organization_id, email_address: email, password });

  assertMeta(await b2b.sessions.revoke({ member_session_id: first.member_session.member_session_id }));
  await assertSessionGone(first.session_token);
  assertMeta(await b2b.sessions.revoke({ session_jwt: second.session_jwt }));
  await assertSessionGone(second.session_token);
  const left = await b2b.sessions.get({ organization_id: org.organization_id, member_id });
  assert.deepEqual(
    left.member_sessions.map((s) => s.member_session_id),
    [third.member_session.member_session_id],
  );
  assertMeta(await b2b.sessions.revoke({ member_id }));
  await assertSessionGone(third.session_token);
  assert.deepEqual((await b2b.sessions.get({ organization_id: org.organization_id, member_id })).member_sessions, []);
});

test("sessions.getJWKS, public B2B JWKS, authenticateJwtLocal and authenticateJwt", async () => {
  const jwks = await b2b.sessions.getJWKS({ project_id: PROJECT_ID });
  assertMeta(jwks);
  assert.ok(jwks.keys.length > 0);
  for (const k of jwks.keys) {
    assert.equal(k.kty, "RSA");
    assert.equal(k.alg, "RS256");
    assert.equal(k.use, "sig");
    assertFields(k, { kid: "string", n: "string", e: "string", key_ops: "strings", x5c: "strings", x5tS256: "string" }, "jwk");
  }
  const r = await fetch(`${BASE}/v1/b2b/sessions/jwks/${PROJECT_ID}`);
  assert.equal(r.status, 200);
  assert.ok((await r.json()).keys.length > 0);

  const org = await newOrg();
  const { member_id, reset: first } = await memberWithPassword(org);
  const { header } = decodeJwt(first.session_jwt);
  assert.ok(jwks.keys.some((k) => k.kid === header.kid), `kid ${header.kid} not in JWKS`);
  await assertJwtVerifiesLocally(first.session_jwt, {
    member_id,
    org,
    session_id: first.member_session.member_session_id,
    factors: first.member_session.authentication_factors.map((f) => f.type),
  });
  const via = await b2b.sessions.authenticateJwt({ session_jwt: first.session_jwt });
  assert.equal(via.request_id, undefined, "authenticateJwt fell back to the API: local verification failed");
  assert.equal(via.member_session.member_session_id, first.member_session.member_session_id);

  const [h, p, s] = first.session_jwt.split(".");
  const claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
  claims[ORG_CLAIM].organization_id = "organization-test-" + crypto.randomUUID();
  const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
  await assert.rejects(
    () => b2b.sessions.authenticateJwtLocal({ session_jwt: forged }),
    (err) => err instanceof stytch.ClientError && err.code === "jwt_invalid",
  );
});

// ------------------------------------------------------------------------------ seed 002: MFA with TOTP

test("seed 002: REQUIRED_FOR_ALL org, password -> IST -> TOTP create/authenticate -> session JWT", async () => {
  const org = await newOrg({ mfa_policy: "REQUIRED_FOR_ALL" });
  assert.equal(org.mfa_policy, "REQUIRED_FOR_ALL");
  const email = uniqueEmail();
  const created = await b2b.organizations.members.create({ organization_id: org.organization_id, email_address: email });
  const member_id = created.member_id;

  const [, mail] = await startReset(org, email);
  const password = strongPassword();
  const reset = await b2b.passwords.email.reset({ password_reset_token: link(mail, PW).token, password });
  assertMfaRequired(reset, { member_id, org });

  const login = await b2b.passwords.authenticate({ organization_id: org.organization_id, email_address: email, password });
  const ist = assertMfaRequired(login, { member_id, org });
  assert.deepEqual((await b2b.sessions.get({ organization_id: org.organization_id, member_id })).member_sessions, []);

  const reg = await b2b.totps.create({ organization_id: org.organization_id, member_id, intermediate_session_token: ist });
  assertMeta(reg);
  assert.equal(reg.member_id, member_id);
  assertFields(reg, { totp_registration_id: "string", secret: "string", qr_code: "string", recovery_codes: "strings" }, "totp");
  assert.ok(reg.totp_registration_id && reg.secret);
  assert.ok(reg.qr_code.startsWith("data:image/svg+xml;base64,"), reg.qr_code.slice(0, 60));
  assert.equal(reg.recovery_codes.length, 10);
  assertMember(reg.member, { org, email, member_id });
  assert.equal(reg.member.totp_registration_id, "");
  assertOrganization(reg.organization, { organization_id: org.organization_id });

  const step = totpStep();
  const code = totpCode(reg.secret, step);
  const done = await b2b.totps.authenticate({
    organization_id: org.organization_id,
    member_id,
    code,
    intermediate_session_token: ist,
  });
  assertMeta(done);
  assert.equal(done.member_id, member_id);
  assert.ok(done.session_token && done.session_jwt);
  assertMember(done.member, { org, email, member_id });
  assert.equal(done.member.totp_registration_id, reg.totp_registration_id);
  assertOrganization(done.organization, { organization_id: org.organization_id });
  assertMemberSession(done.member_session, { member_id, org, factors: ["password", "totp"] });
  const totpFactor = done.member_session.authentication_factors.find((f) => f.type === "totp");
  assert.equal(totpFactor.authenticator_app_factor.totp_id, reg.totp_registration_id);
  const local = await assertJwtVerifiesLocally(done.session_jwt, {
    member_id,
    org,
    session_id: done.member_session.member_session_id,
    factors: ["password", "totp"],
  });
  assert.equal(local.organization_slug, org.organization_slug);
  const remote = await b2b.sessions.authenticate({ session_jwt: done.session_jwt });
  assert.equal(remote.member_session.member_session_id, done.member_session.member_session_id);

  // Next login: MFA again, with the verified registration named; then the error paths.
  const login2 = await b2b.passwords.authenticate({ organization_id: org.organization_id, email_address: email, password });
  const ist2 = assertMfaRequired(login2, { member_id, org, totp_registration_id: reg.totp_registration_id });
  await expectError(
    () => b2b.totps.create({ organization_id: org.organization_id, member_id, intermediate_session_token: ist2 }),
    "active_totp_exists",
    400,
  );
  const fresh = totpCode(reg.secret, Math.max(totpStep(), step + 1));
  await expectError(
    () => b2b.totps.authenticate({ organization_id: org.organization_id, member_id, code: fresh }),
    "no_session_arguments",
    400,
  );
  await expectError(
    () =>
      b2b.totps.authenticate({
        organization_id: org.organization_id,
        member_id,
        code: wrongCode(reg.secret),
        intermediate_session_token: ist2,
      }),
    "unable_to_authenticate_totp",
    401,
  );
  if (totpStep() <= step + 1) {
    await expectError(
      () =>
        b2b.totps.authenticate({ organization_id: org.organization_id, member_id, code, intermediate_session_token: ist2 }),
      "totp_code_already_authenticated",
      401,
    );
  }
  const done2 = await b2b.totps.authenticate({
    organization_id: org.organization_id,
    member_id,
    code: fresh,
    intermediate_session_token: ist2,
    session_duration_minutes: 30,
  });
  assertMemberSession(done2.member_session, { member_id, org, minutes: 30, factors: ["password", "totp"] });
});

test("MFA branch of magicLinks.authenticate: JIT signup in a REQUIRED_FOR_ALL org, then TOTP", async () => {
  const org = await newOrg({
    mfa_policy: "REQUIRED_FOR_ALL",
    email_jit_provisioning: "RESTRICTED",
    email_allowed_domains: ["example.com"],
  });
  const email = uniqueEmail();
  const [signup, mail] = await loginOrSignup(org, email);
  const ml = await b2b.magicLinks.authenticate({ magic_links_token: link(mail, ML).token });
  const ist = assertMfaRequired(ml, { member_id: signup.member_id, org });
  assert.equal(ml.organization_id, org.organization_id);
  assert.equal(typeof ml.reset_sessions, "boolean");
  assert.ok(isStr(ml.method_id) && ml.method_id);
  assert.equal(ml.member.status, "active");
  const reg = await b2b.totps.create({ organization_id: org.organization_id, member_id: signup.member_id, intermediate_session_token: ist });
  const done = await b2b.totps.authenticate({
    organization_id: org.organization_id,
    member_id: signup.member_id,
    code: totpCode(reg.secret, totpStep()),
    intermediate_session_token: ist,
    set_mfa_enrollment: "enroll",
  });
  assertMeta(done);
  assert.equal(done.member.mfa_enrolled, true);
  assertMemberSession(done.member_session, { member_id: signup.member_id, org, factors: ["magic_link", "totp"] });
  await assertJwtVerifiesLocally(done.session_jwt, {
    member_id: signup.member_id,
    org,
    session_id: done.member_session.member_session_id,
    factors: ["magic_link", "totp"],
  });
  await expectError(
    () =>
      b2b.totps.authenticate({
        organization_id: org.organization_id,
        member_id: signup.member_id,
        code: totpCode(reg.secret, totpStep() + 1),
        intermediate_session_token: "no-such-ist-" + uid(),
      }),
    "intermediate_session_not_found",
    404,
  );
});

// ------------------------------------------------------------------------------ organization isolation

test("cross-organization: A's password and session do not work in B", async () => {
  const orgA = await newOrg();
  const orgB = await newOrg();
  const { email, password, member_id, reset: sessionA } = await memberWithPassword(orgA);
  await expectError(
    () => b2b.passwords.authenticate({ organization_id: orgB.organization_id, email_address: email, password }),
    "member_not_found",
    404,
  );
  await expectError(
    () => b2b.organizations.members.get({ organization_id: orgB.organization_id, member_id }),
    "member_not_found",
    404,
  );
  await expectError(
    () =>
      b2b.passwords.sessions.reset({
        organization_id: orgB.organization_id,
        password: strongPassword(),
        session_token: sessionA.session_token,
      }),
    "session_not_found",
    404,
  );
  const b = await memberWithPassword(orgB, email);
  assert.notEqual(b.member_id, member_id);
  await expectError(
    () => b2b.passwords.authenticate({ organization_id: orgB.organization_id, email_address: email, password }),
    "unauthorized_credentials",
    401,
  );
  const inB = await b2b.passwords.authenticate({
    organization_id: orgB.organization_id,
    email_address: email,
    password: b.password,
  });
  assertAuthenticated(inB, { member_id: b.member_id, org: orgB, factors: ["password"] });
});

// ------------------------------------------------------------------------------ error path

test("wrong project secret: B2B calls are unauthorized_credentials", async () => {
  const bad = makeB2B({ secret: SECRET + "-wrong" });
  await expectError(
    () => bad.organizations.create({ organization_name: "x", organization_slug: `sdk-node-${uid()}` }),
    "unauthorized_credentials",
    401,
  );
  await expectError(() => bad.passwords.strengthCheck({ password: strongPassword() }), "unauthorized_credentials", 401);
});

// A member of an MFA-required org enrolled in TOTP (password -> IST -> create -> first code).
async function enrolledInTotp(org) {
  const m = await memberWithPassword(org);
  const login = await b2b.passwords.authenticate({
    organization_id: org.organization_id, email_address: m.email, password: m.password,
  });
  const ist = assertMfaRequired(login, { member_id: m.member_id, org });
  const reg = await b2b.totps.create({ organization_id: org.organization_id, member_id: m.member_id, intermediate_session_token: ist });
  await b2b.totps.authenticate({
    organization_id: org.organization_id, member_id: m.member_id,
    code: totpCode(reg.secret, totpStep()), intermediate_session_token: ist,
  });
  return { ...m, reg };
}

test("recoveryCodes: recover completes MFA once per code, get shows the unused ones, rotate replaces them", async () => {
  const org = await newOrg({ mfa_policy: "REQUIRED_FOR_ALL" });
  const { email, password, member_id, reg } = await enrolledInTotp(org);
  const ids = { organization_id: org.organization_id, member_id };
  const shown = await b2b.recoveryCodes.get(ids);
  assertMeta(shown);
  assert.deepEqual(shown.recovery_codes, reg.recovery_codes);
  assertMember(shown.member, { org, email, member_id });

  const mfaStep = async () =>
    assertMfaRequired(
      await b2b.passwords.authenticate({ organization_id: org.organization_id, email_address: email, password }),
      { member_id, org, totp_registration_id: reg.totp_registration_id },
    );
  const ist = await mfaStep();
  await expectError(
    b2b.recoveryCodes.recover({ ...ids, recovery_code: "aaaa-bbbb-cccc", intermediate_session_token: ist }),
    "unable_to_authenticate_recovery_code",
    401,
  );
  const done = await b2b.recoveryCodes.recover({
    ...ids, recovery_code: reg.recovery_codes[0], intermediate_session_token: ist, session_duration_minutes: 30,
  });
  assertMeta(done);
  assert.equal(done.recovery_codes_remaining, 9);
  assert.ok(done.session_token && done.session_jwt);
  assertMemberSession(done.member_session, { member_id, org, minutes: 30, factors: ["password", "recovery_codes"] });
  assert.deepEqual((await b2b.recoveryCodes.get(ids)).recovery_codes, reg.recovery_codes.slice(1));

  const rotated = await b2b.recoveryCodes.rotate(ids);
  assertMeta(rotated);
  assert.equal(rotated.recovery_codes.length, 10);
  assert.ok(rotated.recovery_codes.every((c) => !reg.recovery_codes.includes(c)));
  await expectError(
    b2b.recoveryCodes.recover({ ...ids, recovery_code: reg.recovery_codes[1], intermediate_session_token: await mfaStep() }),
    "unable_to_authenticate_recovery_code",
    401,
  );
});

test("sessions.exchange: a proven email moves, a password does not, the target's MFA holds", async () => {
  const home = await newOrg();
  const mfa = await newOrg({ mfa_policy: "REQUIRED_FOR_ALL" });
  const passwordsOnly = await newOrg({ auth_methods: "RESTRICTED", allowed_auth_methods: ["password"] });
  const email = uniqueEmail();
  await b2b.organizations.members.create({ organization_id: home.organization_id, email_address: email });
  const inMfa = await b2b.organizations.members.create({ organization_id: mfa.organization_id, email_address: email });
  await b2b.organizations.members.create({ organization_id: passwordsOnly.organization_id, email_address: email });
  const [, mail] = await loginOrSignup(home, email);
  const linked = await b2b.magicLinks.authenticate({ magic_links_token: link(mail, ML).token, session_duration_minutes: 60 });

  const step = await b2b.sessions.exchange({ organization_id: mfa.organization_id, session_token: linked.session_token });
  assertMfaRequired(step, { member_id: inMfa.member_id, org: mfa });

  const asked = await b2b.sessions.exchange({ organization_id: passwordsOnly.organization_id, session_token: linked.session_token });
  assertMeta(asked);
  assert.equal(asked.member_authenticated, false);
  assert.equal(asked.session_token, "");
  assert.equal(asked.intermediate_session_token, "");
  assert.deepEqual(asked.primary_required, { allowed_auth_methods: ["password"] });

  const stranger = await newOrg();
  await expectError(
    b2b.sessions.exchange({ organization_id: stranger.organization_id, session_token: linked.session_token }),
    "member_not_found",
    404,
  );
});
