// Password-hash migration (`passwords.migrate`, consumer and B2B) driven by the official Stytch
// Node SDK (npm `stytch`, pinned in package.json).
//
// Contract: docs/migration.md; docs/reference/stytch-api.md §5 C4 and B11, §10.
// The hashes come from tests/data/migrate/vectors.json, made by the source ecosystems' own tools
// (tests/data/migrate/make_vectors.py). The Node SDK returns response JSON untouched, so the
// shape checks below restate the fields the Python SDK's models require (§6).
//
// Environment (set by scripts/sdk-tests.sh): LATCH_URL, LATCH_PROJECT_ID, LATCH_SECRET.
// Run: node --test --test-timeout=60000 test/migrate.test.js

"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const stytch = require("stytch");
const { watchdog, serverEnv, makeSdkClient, expectError, assertMeta, assertTimestamp } = require("./support");

watchdog("migrate.test.js");

const { BASE, PROJECT_ID, SECRET } = serverEnv();

const VECTORS_FILE = path.join(__dirname, "..", "..", "..", "data", "migrate", "vectors.json");
const VECTORS = JSON.parse(fs.readFileSync(VECTORS_FILE, "utf8")).vectors;
function vector(name) {
  const v = VECTORS.find((x) => x.name === name);
  assert.ok(v, `no vector named ${name} in ${VECTORS_FILE}`);
  return v;
}

// A handful: one per hash form the SDK tests are about.
const SAMPLE = [
  vector("bcrypt $2b$ cost 4, non-ASCII password (bcrypt.hashpw)"),
  vector("bcrypt $2a$ cost 4 (passlib bcrypt ident 2a)"),
  vector("md_5 hex digest, prepend and append salt (hashlib.md5)"),
  vector("sha_512 hex digest, append salt only (hashlib.sha512)"),
  vector("argon_2id PHC m=8192,t=1,p=4 (argon2-cffi)"),
  vector("argon_2i raw hex, non-ASCII salt string, m=8192,t=2,p=2,key 64, non-ASCII password"),
  vector("scrypt PHC ln=10,r=4,p=2, non-ASCII password (passlib)"),
  vector("scrypt raw base64, N=1024,r=8,p=2, key 32, 8-byte salt, non-ASCII password"),
  vector("pbkdf_2 sha512, 1000 iterations, key 64"),
  vector("pbkdf_2 from Django pbkdf2_sha256 (hash part as is, salt = base64 of the salt's ASCII)"),
  vector("phpass $P$B 2^13 rounds (WordPress's stored hashes)"),
  vector("phpass $H$9 2^11 rounds (phpBB3's stored hashes)"),
];
const BCRYPT = SAMPLE[0];
const PBKDF2 = SAMPLE[8];
const PHPASS = SAMPLE[10];

const client = makeSdkClient(stytch.Client, { project_id: PROJECT_ID, secret: SECRET, base: BASE });
const b2b = makeSdkClient(stytch.B2BClient, { project_id: PROJECT_ID, secret: SECRET, base: BASE });

// ------------------------------------------------------------------------------ helpers

const hex = (n) => crypto.randomBytes(n).toString("hex");
const uniqueEmail = (kind = "mig") => `sdk-node-${kind}-${hex(8)}@example.com`;
const strongPassword = () => `Latch-${hex(10)}-Mig!`;
const wrongPassword = (v) => {
  const w = v.wrong_passwords[0]; // always the one-character near miss, never empty
  assert.ok(w);
  return w;
};

// consumer.models.passwords.MigrateResponse and its User (§5 C4, §6.1).
function assertMigratedUser(resp, { email, created, verified }) {
  assertMeta(resp);
  assert.equal(resp.user_created, created);
  assert.ok(typeof resp.user_id === "string" && resp.user_id.startsWith("user-"), resp.user_id);
  assert.ok(typeof resp.email_id === "string" && resp.email_id, "email_id");
  const user = resp.user;
  assert.ok(user && typeof user === "object", "user object");
  assert.equal(user.user_id, resp.user_id);
  assert.deepEqual(
    user.emails.map((e) => e.email),
    [email],
  );
  assert.equal(user.emails[0].email_id, resp.email_id);
  assert.equal(user.emails[0].verified, verified);
  assert.equal(user.status, "active");
  for (const key of ["phone_numbers", "webauthn_registrations", "providers", "totps", "crypto_wallets", "biometric_registrations", "roles"]) {
    assert.ok(Array.isArray(user[key]), `user.${key} must be an array`);
  }
  assert.equal(user.is_locked, false);
  assert.ok(user.password && typeof user.password.password_id === "string" && user.password.password_id, "user.password");
  assertTimestamp(user.created_at, "user.created_at", { optional: true });
}

async function assertLogin(email, password, user_id) {
  const resp = await client.passwords.authenticate({ email, password });
  assertMeta(resp);
  assert.equal(resp.user_id, user_id);
  assert.equal(resp.user.user_id, user_id);
  return resp;
}

async function assertRefusedLogin(email, password) {
  await expectError(() => client.passwords.authenticate({ email, password }), "unauthorized_credentials", 401);
}

async function newOrg() {
  const tag = hex(6);
  const resp = await b2b.organizations.create({
    organization_name: `SDK node migrate ${tag}`,
    organization_slug: `sdk-node-mig-${tag}`,
  });
  assertMeta(resp);
  return resp.organization;
}

// b2b.models.passwords.MigrateResponse (§5 B11): member and organization.
function assertMigratedMember(resp, { org, email, created }) {
  assertMeta(resp);
  assert.equal(resp.member_created, created);
  assert.ok(typeof resp.member_id === "string" && resp.member_id.startsWith("member-"), resp.member_id);
  const m = resp.member;
  assert.ok(m && typeof m === "object", "member object");
  assert.equal(m.member_id, resp.member_id);
  assert.equal(m.organization_id, org.organization_id);
  assert.equal(m.email_address, email);
  assert.equal(m.status, "active");
  assert.equal(m.email_address_verified, true, "a migrated member's email is always verified");
  assert.ok(typeof m.member_password_id === "string" && m.member_password_id, "member_password_id");
  assert.equal(m.is_locked, false);
  for (const key of ["sso_registrations", "oauth_registrations", "retired_email_addresses", "roles"]) {
    assert.ok(Array.isArray(m[key]), `member.${key} must be an array`);
  }
  assert.ok(resp.organization && resp.organization.organization_id === org.organization_id, "organization");
}

async function assertMemberLogin(org, email, password, member_id) {
  const resp = await b2b.passwords.authenticate({ organization_id: org.organization_id, email_address: email, password });
  assertMeta(resp);
  assert.equal(resp.member_authenticated, true);
  assert.equal(resp.member_id, member_id);
  assert.ok(resp.session_token && resp.session_jwt, "a member session is started by default");
  assert.equal(resp.intermediate_session_token, "");
  const ms = resp.member_session;
  assert.ok(ms && ms.member_id === member_id, "member_session");
  assert.deepEqual(
    ms.authentication_factors.map((f) => f.type),
    ["password"],
  );
  assertTimestamp(ms.expires_at, "member_session.expires_at");
  const remaining = (Date.parse(ms.expires_at) - Date.now()) / 1000;
  assert.ok(Math.abs(remaining - 3600) < 120, `the default B2B session lasts 60 minutes: ${ms.expires_at}`);
  return resp;
}

// ------------------------------------------------------------------------------ consumer C4

for (const [i, v] of SAMPLE.entries()) {
  test(`migrate then log in: ${v.name}`, async () => {
    const email = uniqueEmail();
    const verified = i % 2 === 1;
    const resp = await client.passwords.migrate({ email, ...v.migrate, set_email_verified: verified });
    assertMigratedUser(resp, { email, created: true, verified });
    await assertLogin(email, v.password, resp.user_id);
    await assertRefusedLogin(email, wrongPassword(v));
    // The first login upgraded the hash to argon2id: the password still works.
    await assertLogin(email, v.password, resp.user_id);
    await assertRefusedLogin(email, wrongPassword(v));
  });
}

test("migrate: the same hash again succeeds until the first login upgrades it", async () => {
  const email = uniqueEmail();
  const first = await client.passwords.migrate({ email, ...BCRYPT.migrate });
  assertMigratedUser(first, { email, created: true, verified: false });
  const again = await client.passwords.migrate({ email, ...BCRYPT.migrate });
  assertMigratedUser(again, { email, created: false, verified: false });
  assert.equal(again.user_id, first.user_id);
  await assertLogin(email, BCRYPT.password, first.user_id);
  await expectError(() => client.passwords.migrate({ email, ...BCRYPT.migrate }), "password_already_exists", 400);
});

test("migrate onto a user created with passwords.create is password_already_exists", async () => {
  const email = uniqueEmail();
  const password = strongPassword();
  const created = await client.passwords.create({ email, password });
  assertMeta(created);
  await expectError(
    () => client.passwords.migrate({ email, ...PHPASS.migrate, set_email_verified: true }),
    "password_already_exists",
    400,
  );
  await assertLogin(email, password, created.user_id);
  await assertRefusedLogin(email, PHPASS.password);
});

test("migrate: malformed hashes and unknown hash types", async () => {
  const email = uniqueEmail();
  await expectError(
    () => client.passwords.migrate({ email, hash_type: "bcrypt", hash: "$2b$10$short" }),
    "invalid_bcrypt_hash",
    400,
  );
  const cost31 = BCRYPT.migrate.hash.replace(/^\$2b\$04\$/, "$2b$31$");
  assert.notEqual(cost31, BCRYPT.migrate.hash);
  await expectError(() => client.passwords.migrate({ email, hash_type: "bcrypt", hash: cost31 }), "invalid_bcrypt_cost", 400);
  await expectError(
    () => client.passwords.migrate({ email, hash_type: "md4", hash: "31d6cfe0d16ae931b73c59d7e0c089c0" }),
    "invalid_hash_type",
    400,
  );
  await expectError(() => client.passwords.authenticate({ email, password: BCRYPT.password }), "email_not_found", 404);
});

test("migrate: phone_number is refused (Latch's consumer users have none)", async () => {
  const email = uniqueEmail();
  await expectError(
    () => client.passwords.migrate({ email, ...BCRYPT.migrate, phone_number: "+12025550123" }),
    "bad_request",
    400,
  );
});

// ------------------------------------------------------------------------------ B2B B11

for (const v of [BCRYPT, SAMPLE[2], SAMPLE[4], SAMPLE[7], PBKDF2, PHPASS]) {
  test(`b2b migrate then log in: ${v.name}`, async () => {
    const org = await newOrg();
    const email = uniqueEmail("b2b-mig");
    const resp = await b2b.passwords.migrate({ organization_id: org.organization_id, email_address: email, ...v.migrate });
    assertMigratedMember(resp, { org, email, created: true });
    await assertMemberLogin(org, email, v.password, resp.member_id);
    await expectError(
      () => b2b.passwords.authenticate({ organization_id: org.organization_id, email_address: email, password: wrongPassword(v) }),
      "unauthorized_credentials",
      401,
    );
    await assertMemberLogin(org, email, v.password, resp.member_id);
  });
}

test("b2b migrate: same hash again, then a different hash is password_already_exists", async () => {
  const org = await newOrg();
  const email = uniqueEmail("b2b-mig");
  const req = { organization_id: org.organization_id, email_address: email };
  const first = await b2b.passwords.migrate({ ...req, ...PBKDF2.migrate });
  assertMigratedMember(first, { org, email, created: true });
  const again = await b2b.passwords.migrate({ ...req, ...PBKDF2.migrate });
  assertMigratedMember(again, { org, email, created: false });
  assert.equal(again.member_id, first.member_id);
  await expectError(() => b2b.passwords.migrate({ ...req, ...BCRYPT.migrate }), "password_already_exists", 400);
  await assertMemberLogin(org, email, PBKDF2.password, first.member_id);
});

test("b2b migrate by organization slug", async () => {
  const org = await newOrg();
  const email = uniqueEmail("b2b-mig");
  const resp = await b2b.passwords.migrate({
    organization_id: org.organization_slug,
    email_address: email,
    name: "Ada Lovelace",
    ...PHPASS.migrate,
  });
  assertMigratedMember(resp, { org, email, created: true });
  assert.equal(resp.member.name, "Ada Lovelace");
  await assertMemberLogin(org, email, PHPASS.password, resp.member_id);
});

test("b2b migrate: organization_not_found", async () => {
  await expectError(
    () =>
      b2b.passwords.migrate({
        organization_id: "organization-test-00000000-0000-4000-8000-000000000000",
        email_address: uniqueEmail("b2b-mig"),
        ...BCRYPT.migrate,
      }),
    "organization_not_found",
    404,
  );
});

test("b2b migrate: malformed bcrypt hash", async () => {
  const org = await newOrg();
  await expectError(
    () =>
      b2b.passwords.migrate({
        organization_id: org.organization_id,
        email_address: uniqueEmail("b2b-mig"),
        hash_type: "bcrypt",
        hash: "$2b$10$short",
      }),
    "invalid_bcrypt_hash",
    400,
  );
});
