// The browser suite: headless Chromium (playwright-core driving the system's
// chromium-headless-shell) loads the example pages (examples/*.html, served here on
// http://localhost:8080, the origin on LATCH_SDK_ORIGINS) with the official @stytch/vanilla-js
// 6.3.0 IIFE bundles, unchanged, against `latch serve` on https://localhost (port 443).
//
//   scripts/browser-tests.sh [path/to/latch]      sets everything up and runs this file
//
// Environment (the script sets it): LATCH_PUBLIC_TOKEN, LATCH_PROJECT_ID, LATCH_SECRET,
// LATCH_OUTBOX_DIR, LATCH_TLS_CA (the PEM certificate Latch serves); optional CHROMIUM,
// BROWSER_SCREENSHOT_DIR, BROWSER_SKIP_CONSUMER=1 (scenarios e, f and h: the consumer /sdk/v1
// routes). Every request the browser makes is recorded and must stay on loopback; requests
// elsewhere are aborted (and fail the scenario).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  CONFIG,
  OTHER_PAGES,
  PAGES,
  assertLoopbackOnly,
  backend,
  latch,
  launchBrowser,
  linkOfType,
  mailMark,
  memberWithPassword,
  newContext,
  newMail,
  newOrg,
  pageCookies,
  sdkCalls,
  shot,
  startPageServers,
  strongPassword,
  totpCode,
  uid,
} from "./support.mjs";

let browser;
let servers;
const contexts = [];

before(async () => {
  servers = await startPageServers("demo");
  browser = await launchBrowser();
  console.log(`# Chromium ${browser.version()}; screenshots in ${CONFIG.shotDir}`);
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await servers?.close();
});

// The pages of the scenario under way, for the diagnostics of a failure.
let openPages = [];

// test() with diagnostics: on failure a screenshot of each open page and its console output.
function scenario(name, opts, fn) {
  test(name, opts, async (t) => {
    openPages = [];
    try {
      await fn(t);
    } catch (e) {
      for (const [i, page] of openPages.entries()) {
        const file = await shot(page, `FAILED-${name.slice(0, 1)}-${i}`).catch(() => "(no screenshot)");
        console.log(
          `# ${name}: page ${page.url()}\n#   screenshot ${file}\n#   console:\n` +
            page.consoleLines
              .slice(-15)
              .map((l) => `#     ${l.slice(0, 300)}`)
              .join("\n"),
        );
      }
      throw e;
    }
  });
}

// A fresh browser context with `path` loaded; `window.client` is the page's SDK client.
async function open(path, { base = PAGES } = {}) {
  const ctx = await newContext(browser);
  contexts.push(ctx.context);
  openPages.push(ctx.page);
  await ctx.page.goto(`${base}${path}`);
  await ctx.page.waitForFunction(() => window.stytch && (window.client || document.querySelector("#problem:not([hidden])")));
  return ctx;
}

// Call window.client.<method>(...args) in the page: {ok, value} or {ok: false, error}.
function sdk(page, method, ...args) {
  return page.evaluate(
    async ([method, args]) => {
      const parts = method.split(".");
      let target = window.client;
      for (const p of parts.slice(0, -1)) target = target[p];
      try {
        const value = await target[parts[parts.length - 1]](...args);
        return { ok: true, value: value === undefined ? null : JSON.parse(JSON.stringify(value)) };
      } catch (e) {
        return { ok: false, error: { name: e.name, error_type: e.error_type, status_code: e.status_code, message: String(e.message) } };
      }
    },
    [method, args],
  );
}

async function ok(page, method, ...args) {
  const r = await sdk(page, method, ...args);
  if (!r.ok) assert.fail(`${method} threw ${JSON.stringify(r.error)}`);
  return r.value;
}

async function fails(page, method, args, errorType, name = "StytchAPIError") {
  const r = await sdk(page, method, args);
  if (r.ok) assert.fail(`${method} should have thrown ${errorType}, returned ${JSON.stringify(r.value).slice(0, 300)}`);
  assert.equal(r.error.name, name, JSON.stringify(r.error));
  if (errorType !== undefined) assert.equal(r.error.error_type, errorType, JSON.stringify(r.error));
  return r.error;
}

// A B2B authenticate response that logged the member in.
function assertMemberSession(resp, { member_id, organization_id }) {
  assert.ok(resp.member_session, `no member_session: ${JSON.stringify(resp).slice(0, 400)}`);
  assert.equal(resp.member_session.member_id, member_id);
  assert.equal(resp.member_session.organization_id, organization_id);
  assert.ok(resp.session_token && resp.session_jwt, "session_token and session_jwt must be non-empty");
  assert.equal(resp.member.member_id, member_id);
  assert.equal(resp.organization.organization_id, organization_id);
}

function assertUserSession(resp, user_id) {
  assert.ok(resp.session, `no session: ${JSON.stringify(resp).slice(0, 400)}`);
  assert.equal(resp.session.user_id, user_id);
  assert.ok(resp.session_token && resp.session_jwt, "session_token and session_jwt must be non-empty");
  assert.equal(resp.user_id, user_id);
}

const basicOf = (header) => Buffer.from(header.replace(/^Basic /, ""), "base64").toString("utf8");
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

async function waitEnabled(locator, timeout = 15000) {
  const deadline = Date.now() + timeout;
  while (!(await locator.isEnabled())) {
    assert.ok(Date.now() < deadline, "the button never became enabled");
    await new Promise((r) => setTimeout(r, 100));
  }
}

const SUCCESS = "You have successfully logged in.";

/** The recorded SDK calls include every one of `expected`; `who` names the caller in the message. */
function assertCalled(requests, expected, who) {
  const calls = sdkCalls(requests);
  for (const c of expected) {
    assert.ok(calls.includes(c), `${who} never called ${c}; calls: ${[...new Set(calls)].join(", ")}`);
  }
}

/** The pre-built UI's new-password form (sign-up and reset): type `password` key by key (the UI
 * checks its strength per keystroke), wait for Continue, screenshot `shotName`, submit, and wait for
 * the success message. */
async function submitNewPassword(page, password, shotName) {
  const field = page.locator("#new-password");
  await field.waitFor();
  await field.pressSequentially(password, { delay: 5 });
  const cont = page.getByRole("button", { name: "Continue", exact: true });
  await waitEnabled(cont);
  await shot(page, shotName);
  await cont.click();
  await page.getByText(SUCCESS).waitFor();
}
const skipConsumer = process.env.BROWSER_SKIP_CONSUMER === "1" && "BROWSER_SKIP_CONSUMER=1 (no consumer /sdk/v1 routes)";

// ------------------------------------------------------------------ a. B2B headless

scenario("a. B2B headless: seed-003 password methods, session, self, organization, revoke", {}, async () => {
  const org = await newOrg("a-headless");
  const email = `ada-${uid()}@example.com`;
  let password = strongPassword();
  const member = await memberWithPassword(org, email, password);
  const ids = { member_id: member.member_id, organization_id: org.organization_id };
  const { page, requests, context } = await open(`/b2b-headless.html?org=${org.organization_slug}`);

  // Wrong password: the SDK throws StytchAPIError unauthorized_credentials.
  const wrong = await fails(
    page,
    "passwords.authenticate",
    { organization_id: org.organization_id, email_address: email, password: "not the password 123", session_duration_minutes: 60 },
    "unauthorized_credentials",
  );
  assert.equal(wrong.status_code, 401);
  assert.equal((await pageCookies(page)).stytch_session, undefined);

  // passwords.authenticate -> a session; the SDK writes stytch_session / stytch_session_jwt.
  const auth = await ok(page, "passwords.authenticate", {
    organization_id: org.organization_id,
    email_address: email,
    password,
    session_duration_minutes: 60,
  });
  assertMemberSession(auth, ids);
  let cookies = await pageCookies(page);
  assert.equal(cookies.stytch_session, auth.session_token);
  assert.equal(cookies.stytch_session_jwt, auth.session_jwt);

  // session.authenticate, self.get, organization.get, organization.getBySlug.
  const sess = await ok(page, "session.authenticate", { session_duration_minutes: 60 });
  assertMemberSession(sess, ids);
  assert.equal(sess.member_session.member_session_id, auth.member_session.member_session_id);
  const me = await ok(page, "self.get");
  assert.equal(me.member_id, member.member_id);
  assert.equal(me.email_address, email);
  const meOrg = await ok(page, "organization.get");
  assert.equal(meOrg.organization_id, org.organization_id);
  assert.equal(meOrg.organization_slug, org.organization_slug);
  const bySlug = await ok(page, "organization.getBySlug", { organization_slug: org.organization_slug });
  assert.equal(bySlug.organization.organization_id, org.organization_id);
  const noSlug = await ok(page, "organization.getBySlug", { organization_slug: `nope-${uid()}` });
  assert.equal(noSlug.organization, null);
  // Session-scoped calls carried public_token:session_token in Authorization.
  const meCall = requests.find((r) => r.url.endsWith("/sdk/v1/b2b/organizations/members/me") && r.method === "GET");
  assert.ok(meCall, "no GET /sdk/v1/b2b/organizations/members/me recorded");
  assert.equal(basicOf(meCall.headers.authorization), `${CONFIG.publicToken}:${auth.session_token}`);

  // strengthCheck: weak and strong.
  const weak = await ok(page, "passwords.strengthCheck", { password: "abc" });
  assert.equal(weak.valid_password, false);
  assert.equal(weak.strength_policy, "zxcvbn");
  const strong = await ok(page, "passwords.strengthCheck", { email_address: email, password: strongPassword() });
  assert.equal(strong.valid_password, true);

  // resetByExistingPassword: the old password stops working, the new one works.
  const second = strongPassword();
  const byExisting = await ok(page, "passwords.resetByExistingPassword", {
    organization_id: org.organization_id,
    email_address: email,
    existing_password: password,
    new_password: second,
    session_duration_minutes: 60,
  });
  assertMemberSession(byExisting, ids);
  await fails(
    page,
    "passwords.authenticate",
    { organization_id: org.organization_id, email_address: email, password, session_duration_minutes: 60 },
    "unauthorized_credentials",
  );
  password = second;

  // resetBySession: the session's member, no organization_id in the call.
  const third = strongPassword();
  const bySession = await ok(page, "passwords.resetBySession", { password: third });
  assertMemberSession(bySession, ids);
  password = third;
  assertMemberSession(
    await ok(page, "passwords.authenticate", { organization_id: org.organization_id, email_address: email, password, session_duration_minutes: 60 }),
    ids,
  );

  // resetByEmailStart -> the mailed link -> resetByEmail with password_reset_token.
  const resetUrl = `${PAGES}/b2b-login.html?org=${org.organization_slug}`;
  const mark = mailMark(email);
  const started = await ok(page, "passwords.resetByEmailStart", {
    organization_id: org.organization_id,
    email_address: email,
    reset_password_redirect_url: resetUrl,
    login_redirect_url: resetUrl,
    reset_password_expiration_minutes: 30,
  });
  assert.equal(started.status_code, 200);
  const mail = await newMail(email, mark);
  const link = linkOfType(mail, "multi_tenant_passwords");
  assert.equal(link.searchParams.get("stytch_redirect_type"), "reset_password");
  assert.equal(`${link.origin}${link.pathname}`, `${PAGES}/b2b-login.html`);
  const fourth = strongPassword();
  const byEmail = await ok(page, "passwords.resetByEmail", {
    password_reset_token: link.searchParams.get("token"),
    password: fourth,
    session_duration_minutes: 60,
  });
  assertMemberSession(byEmail, ids);
  password = fourth;
  assertMemberSession(
    await ok(page, "passwords.authenticate", { organization_id: org.organization_id, email_address: email, password, session_duration_minutes: 60 }),
    ids,
  );

  // session.revoke clears the cookies and the SDK's state; the session no longer authenticates.
  const beforeRevoke = (await pageCookies(page)).stytch_session;
  assert.ok(beforeRevoke);
  await ok(page, "session.revoke");
  cookies = await pageCookies(page);
  assert.equal(cookies.stytch_session, undefined);
  assert.equal(cookies.stytch_session_jwt, undefined);
  assert.equal(await page.evaluate(() => window.client.session.getSync()), null);
  const gone = await latch("POST", "/v1/b2b/sessions/authenticate", { session_token: beforeRevoke });
  assert.notEqual(gone.status, 200, "the revoked session still authenticates on the backend");
  assert.equal((await context.cookies()).filter((c) => c.name.startsWith("stytch_session")).length, 0);

  assertCalled(requests, [
    "GET /projects/bootstrap/" + CONFIG.publicToken,
    "POST /b2b/passwords/authenticate",
    "POST /b2b/passwords/strength_check",
    "POST /b2b/passwords/existing_password/reset",
    "POST /b2b/passwords/session/reset",
    "POST /b2b/passwords/email/reset/start",
    "POST /b2b/passwords/email/reset",
    "POST /b2b/sessions/authenticate",
    "GET /b2b/organizations/members/me",
    "GET /b2b/organizations/me",
    "POST /b2b/organizations/search",
    "POST /b2b/sessions/revoke",
  ], "the SDK");
  assertLoopbackOnly(requests);
});

// ------------------------------------------------------------------ b. MFA with TOTP

scenario("b. B2B MFA: REQUIRED_FOR_ALL org, password -> intermediate session -> totp.create -> totp.authenticate; backup codes get, rotate, recover", {}, async () => {
  const org = await newOrg("b-mfa", { mfa_policy: "REQUIRED_FOR_ALL" });
  assert.equal(org.mfa_policy, "REQUIRED_FOR_ALL");
  const email = `mfa-${uid()}@example.com`;
  const password = strongPassword();
  const member = await memberWithPassword(org, email, password);
  const ids = { member_id: member.member_id, organization_id: org.organization_id };
  const { page, requests } = await open(`/b2b-headless.html?org=${org.organization_slug}`);

  const primary = await ok(page, "passwords.authenticate", {
    organization_id: org.organization_id,
    email_address: email,
    password,
    session_duration_minutes: 60,
  });
  assert.equal(primary.member_session, null);
  assert.ok(primary.intermediate_session_token, "no intermediate_session_token");
  assert.equal(primary.member_authenticated, false);
  let cookies = await pageCookies(page);
  assert.equal(cookies.stytch_intermediate_session_token, primary.intermediate_session_token);
  assert.equal(cookies.stytch_session, undefined);

  const reg = await ok(page, "totp.create", { organization_id: org.organization_id, member_id: member.member_id });
  assert.ok(reg.secret && reg.totp_registration_id, JSON.stringify(reg).slice(0, 300));
  assert.ok(reg.qr_code.startsWith("data:image/"), "qr_code should be a data URL (it goes into <img src>)");

  const done = await ok(page, "totp.authenticate", {
    organization_id: org.organization_id,
    member_id: member.member_id,
    code: totpCode(reg.secret),
    session_duration_minutes: 60,
  });
  assertMemberSession(done, ids);
  const factors = done.member_session.authentication_factors.map((f) => f.delivery_method || f.type);
  assert.ok(factors.some((f) => /totp|authenticator/.test(f)), `no TOTP factor in ${JSON.stringify(factors)}`);
  cookies = await pageCookies(page);
  assert.equal(cookies.stytch_session, done.session_token);
  assert.equal(cookies.stytch_intermediate_session_token, undefined, "the IST cookie should be gone after full auth");
  // The IST travelled in the body of both TOTP calls (the SDK read it from its cookie).
  const totpCalls = sdkCalls(requests).filter((c) => c.includes("/b2b/totp"));
  assert.deepEqual(totpCalls, ["POST /b2b/totp", "POST /b2b/totp/authenticate"]);
  for (const r of requests.filter((r) => r.url.includes("/sdk/v1/b2b/totp") && r.method === "POST")) {
    assert.ok(r.postData?.includes(primary.intermediate_session_token), `${r.url}: the IST is not in the body`);
  }

  // Backup codes: shown again to the session's member, rotated, and one used in place of the app.
  const shown = await ok(page, "recoveryCodes.get");
  assert.deepEqual(shown.recovery_codes, reg.recovery_codes);
  const rotated = await ok(page, "recoveryCodes.rotate");
  assert.equal(rotated.recovery_codes.length, 10);
  assert.ok(!rotated.recovery_codes.includes(reg.recovery_codes[0]), "rotate kept an old code");
  await ok(page, "session.revoke");
  const again = await ok(page, "passwords.authenticate", {
    organization_id: org.organization_id,
    email_address: email,
    password,
    session_duration_minutes: 60,
  });
  assert.equal(again.member_session, null);
  const recovered = await ok(page, "recoveryCodes.recover", {
    organization_id: org.organization_id,
    member_id: member.member_id,
    recovery_code: rotated.recovery_codes[0],
    session_duration_minutes: 60,
  });
  assertMemberSession(recovered, ids);
  assert.equal(recovered.recovery_codes_remaining, 9);
  cookies = await pageCookies(page);
  assert.equal(cookies.stytch_session, recovered.session_token);
  await ok(page, "session.revoke");
  assertLoopbackOnly(requests);
});

// ------------------------------------------------------------------ c. pre-built B2B UI login

scenario("c. B2B pre-built UI (examples/b2b-login.html): email -> password -> logged in", {}, async () => {
  const org = await newOrg("acme", { organization_name: "Acme Corp" });
  const email = `ui-${uid()}@example.com`;
  const password = strongPassword();
  await memberWithPassword(org, email, password);
  const { page, requests } = await open(`/b2b-login.html?org=${org.organization_slug}`);

  await page.locator("#email-input").waitFor();
  await page.getByText(`Continue to ${org.organization_name}`).waitFor();
  await shot(page, "b2b-email");
  await page.fill("#email-input", email);
  await page.getByRole("button", { name: "Continue", exact: true }).click();

  await page.locator("#current-password").waitFor();
  await page.fill("#current-password", password);
  await shot(page, "b2b-password");
  await page.getByRole("button", { name: "Continue", exact: true }).click();

  await page.getByText(SUCCESS).waitFor();
  await page.locator("#session-who").waitFor();
  await shot(page, "b2b-logged-in");
  assert.ok((await pageCookies(page)).stytch_session, "no stytch_session cookie after the UI login");
  assert.match(await page.locator("#session-who").innerText(), new RegExp(escapeRe(email)));
  assertCalled(requests, ["POST /b2b/organizations/search", "POST /b2b/organizations/members/search", "POST /b2b/passwords/authenticate"], "the UI");
  assertLoopbackOnly(requests);
});

// ------------------------------------------------------------------ d. pre-built B2B forgot password

scenario("d. B2B pre-built UI: forgot password -> emailed link -> reset page -> logged in; new password works", {}, async () => {
  const org = await newOrg("acme-reset", { organization_name: "Acme Corp" });
  const email = `reset-${uid()}@example.com`;
  const oldPassword = strongPassword();
  const member = await memberWithPassword(org, email, oldPassword);
  const { page, requests } = await open(`/b2b-login.html?org=${org.organization_slug}`);

  await page.locator("#email-input").waitFor();
  await page.fill("#email-input", email);
  await page.getByRole("button", { name: "Continue", exact: true }).click();
  await page.locator("#current-password").waitFor();
  await page.getByRole("button", { name: "Sign up or reset password" }).click();
  const emailField = page.locator("#email-input");
  await emailField.waitFor();
  if (!(await emailField.inputValue())) await emailField.fill(email);
  const mark = mailMark(email);
  await page.getByRole("button", { name: "Continue", exact: true }).click();
  await page.getByText("Check your email").first().waitFor();
  await shot(page, "b2b-check-email");

  const mail = await newMail(email, mark);
  const link = linkOfType(mail, "multi_tenant_passwords");
  assert.equal(link.searchParams.get("stytch_redirect_type"), "reset_password");
  assert.equal(`${link.origin}${link.pathname}`, `${PAGES}/b2b-login.html`, "the reset link should open the page's resetPasswordRedirectURL");
  assert.equal(link.searchParams.get("org"), org.organization_slug, "the redirect URL's own query is kept");

  await page.goto(link.href);
  const newPassword = strongPassword();
  await submitNewPassword(page, newPassword, "b2b-reset");
  await shot(page, "b2b-reset-logged-in");
  assert.ok((await pageCookies(page)).stytch_session, "no stytch_session cookie after the reset");
  assertCalled(requests, ["POST /b2b/passwords/email/reset/start", "POST /b2b/passwords/strength_check", "POST /b2b/passwords/email/reset"], "the UI");
  assertLoopbackOnly(requests);

  // The new password works headless, the old one does not.
  const other = await open(`/b2b-headless.html?org=${org.organization_slug}`);
  const login = await ok(other.page, "passwords.authenticate", {
    organization_id: org.organization_id,
    email_address: email,
    password: newPassword,
    session_duration_minutes: 60,
  });
  assertMemberSession(login, { member_id: member.member_id, organization_id: org.organization_id });
  await fails(
    other.page,
    "passwords.authenticate",
    { organization_id: org.organization_id, email_address: email, password: oldPassword, session_duration_minutes: 60 },
    "unauthorized_credentials",
  );
  assertLoopbackOnly(other.requests);
});

// ------------------------------------------------------------------ e. consumer headless

scenario(
  "e. consumer headless: create, authenticate, strengthCheck, user.get, reset by email / magic link / existing / session, revoke",
  { skip: skipConsumer },
  async () => {
    const email = `con-${uid()}@example.com`;
    const { page, requests } = await open("/consumer-headless.html");
    let password = strongPassword();

    const created = await ok(page, "passwords.create", { email, password, session_duration_minutes: 60 });
    assert.ok(created.user_id);
    const user_id = created.user_id;
    assertUserSession(created, user_id);
    assert.equal((await pageCookies(page)).stytch_session, created.session_token);
    await ok(page, "session.revoke");
    assert.equal((await pageCookies(page)).stytch_session, undefined);

    await fails(page, "passwords.authenticate", { email, password: "not the password 123", session_duration_minutes: 60 }, "unauthorized_credentials");
    const auth = await ok(page, "passwords.authenticate", { email, password, session_duration_minutes: 60 });
    assertUserSession(auth, user_id);
    assert.equal((await pageCookies(page)).stytch_session, auth.session_token);

    const weak = await ok(page, "passwords.strengthCheck", { password: "abc" });
    assert.equal(weak.valid_password, false);
    assert.equal(weak.strength_policy, "zxcvbn");
    assert.equal((await ok(page, "passwords.strengthCheck", { email, password: strongPassword() })).valid_password, true);

    const me = await ok(page, "user.get");
    assert.equal(me.user_id, user_id);
    assert.equal(me.emails[0].email, email);

    // resetByEmailStart -> the mail: a reset link and a magic link.
    const mark = mailMark(email);
    await ok(page, "passwords.resetByEmailStart", {
      email,
      reset_password_redirect_url: `${PAGES}/consumer-reset.html`,
      login_redirect_url: `${PAGES}/consumer-login.html`,
      reset_password_expiration_minutes: 30,
      login_expiration_minutes: 30,
    });
    const mail = await newMail(email, mark);
    const reset = linkOfType(mail, "reset_password");
    assert.equal(`${reset.origin}${reset.pathname}`, `${PAGES}/consumer-reset.html`);
    const magic = linkOfType(mail, "magic_links");
    assert.equal(`${magic.origin}${magic.pathname}`, `${PAGES}/consumer-login.html`);

    // Both links of that mail: the magic link first (it proves the email; it does not reset the
    // password), then the reset link. (Latch retires a mail's magic link once its reset link is used.)
    const byLink = await ok(page, "magicLinks.authenticate", magic.searchParams.get("token"), { session_duration_minutes: 60 });
    assertUserSession(byLink, user_id);
    assert.equal((await pageCookies(page)).stytch_session, byLink.session_token);

    const second = strongPassword();
    const byEmail = await ok(page, "passwords.resetByEmail", { token: reset.searchParams.get("token"), password: second, session_duration_minutes: 60 });
    assertUserSession(byEmail, user_id);
    password = second;
    assertUserSession(await ok(page, "passwords.authenticate", { email, password, session_duration_minutes: 60 }), user_id);

    const third = strongPassword();
    const byExisting = await ok(page, "passwords.resetByExistingPassword", {
      email,
      existing_password: password,
      new_password: third,
      session_duration_minutes: 60,
    });
    assertUserSession(byExisting, user_id);
    password = third;

    const fourth = strongPassword();
    const bySession = await ok(page, "passwords.resetBySession", { password: fourth, session_duration_minutes: 60 });
    assertUserSession(bySession, user_id);
    password = fourth;
    assertUserSession(await ok(page, "passwords.authenticate", { email, password, session_duration_minutes: 60 }), user_id);

    await ok(page, "session.revoke");
    const cookies = await pageCookies(page);
    assert.equal(cookies.stytch_session, undefined);
    assert.equal(cookies.stytch_session_jwt, undefined);
    assert.equal(await page.evaluate(() => window.client.session.getSync()), null);

    assertCalled(requests, [
      "POST /passwords",
      "POST /passwords/authenticate",
      "POST /passwords/strength_check",
      "GET /users/me",
      "POST /passwords/email/reset/start",
      "POST /passwords/email/reset",
      "POST /magic_links/authenticate",
      "POST /passwords/existing_password/reset",
      "POST /passwords/session/reset",
      "POST /sessions/authenticate",
      "POST /sessions/revoke",
    ], "the SDK");
    assertLoopbackOnly(requests);
  },
);

// ------------------------------------------------------------------ f. consumer pre-built UI

scenario("f. consumer pre-built UI (examples/consumer-login.html): sign up, log out, log in", { skip: skipConsumer }, async () => {
  const email = `signup-${uid()}@example.com`;
  const password = strongPassword();
  const { page, requests } = await open("/consumer-login.html");

  await page.locator("#email-input").waitFor();
  await shot(page, "consumer-email");
  await page.fill("#email-input", email);
  await page.getByRole("button", { name: "Continue with email" }).click();
  await submitNewPassword(page, password, "consumer-signup");
  await page.locator("#session-who").waitFor();
  await shot(page, "consumer-signed-up");
  assert.ok((await pageCookies(page)).stytch_session, "no stytch_session cookie after sign-up");
  assertCalled(requests, ["POST /users/search", "POST /passwords/strength_check", "POST /passwords"], "the UI");

  // Log out (the page's button revokes and reloads), then log in with the new account.
  await page.locator("#logout").click();
  await page.waitForLoadState("load");
  await page.locator("#email-input").waitFor();
  assert.equal((await pageCookies(page)).stytch_session, undefined);
  await page.fill("#email-input", email);
  await page.getByRole("button", { name: "Continue with email" }).click();
  await page.locator("#current-password").waitFor();
  await page.fill("#current-password", password);
  await page.getByRole("button", { name: "Continue", exact: true }).click();
  await page.getByText(SUCCESS).waitFor();
  await page.locator("#session-who").waitFor();
  await shot(page, "consumer-logged-in");
  assert.match(await page.locator("#session-who").innerText(), new RegExp(escapeRe(email)));
  assert.ok(sdkCalls(requests).includes("POST /passwords/authenticate"));
  assertLoopbackOnly(requests);
});

// ------------------------------------------------------------------ g. unauthorized origin

scenario("g. a page on http://localhost:8081 (not on LATCH_SDK_ORIGINS) cannot use the SDK", {}, async () => {
  const org = await newOrg("g-origin");
  const { page, requests } = await open(`/b2b-headless.html?org=${org.organization_slug}`, { base: OTHER_PAGES });
  // In the browser: CORS blocks the answers, which the SDK reports as unreachable.
  const err = await fails(page, "passwords.strengthCheck", { password: "abc" }, undefined, "StytchAPIUnreachableError");
  assert.equal(err.error_type, undefined);
  await fails(page, "organization.getBySlug", { organization_slug: org.organization_slug }, undefined, "StytchAPIUnreachableError");
  assert.ok(sdkCalls(requests).includes("POST /b2b/passwords/strength_check"), "the page did try Latch");
  assertLoopbackOnly(requests);

  // From Node with that Origin: 403 bad_domain_for_stytch_sdk, and no CORS grant.
  const pt = `${CONFIG.publicToken}:${CONFIG.publicToken}`;
  const denied = await latch("POST", "/sdk/v1/b2b/passwords/strength_check", { password: "abc" }, { auth: pt, headers: { origin: OTHER_PAGES } });
  assert.equal(denied.status, 403, JSON.stringify(denied.json));
  assert.equal(denied.json.error_type, "bad_domain_for_stytch_sdk");
  assert.notEqual(denied.headers["access-control-allow-origin"], OTHER_PAGES);
  assert.notEqual(denied.headers["access-control-allow-origin"], "*");
  const preflight = await latch("OPTIONS", "/sdk/v1/b2b/passwords/strength_check", undefined, {
    auth: null,
    headers: { origin: OTHER_PAGES, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
  });
  assert.equal(preflight.headers["access-control-allow-origin"], undefined, "a preflight from an unlisted origin must not be granted");
  // The same call from the listed origin is answered, with the origin echoed.
  const allowed = await latch("POST", "/sdk/v1/b2b/passwords/strength_check", { password: "abc" }, { auth: pt, headers: { origin: PAGES } });
  assert.equal(allowed.status, 200, JSON.stringify(allowed.json));
  assert.equal(allowed.headers["access-control-allow-origin"], PAGES);
  assert.equal(allowed.headers["access-control-allow-credentials"], "true");
  assert.equal(allowed.json.data.valid_password, false);
});

// ------------------------------------------------------------------ h. consumer reset email, pre-built reset page

scenario(
  "h. consumer reset email: magic link on examples/consumer-login.html, then examples/consumer-reset.html sets a new password",
  { skip: skipConsumer },
  async () => {
    const email = `creset-${uid()}@example.com`;
    const oldPassword = strongPassword();
    const created = await backend("POST", "/v1/passwords", { email, password: oldPassword });
    const mark = mailMark(email);
    await backend("POST", "/v1/passwords/email/reset/start", {
      email,
      reset_password_redirect_url: `${PAGES}/consumer-reset.html`,
      login_redirect_url: `${PAGES}/consumer-login.html`,
    });
    const mail = await newMail(email, mark);
    const magic = linkOfType(mail, "magic_links");
    const reset = linkOfType(mail, "reset_password");

    // The magic link: the login page authenticates its token and drops it from the URL.
    const { page, requests } = await open(magic.pathname + magic.search);
    await page.locator("#session-who").waitFor();
    assert.match(await page.locator("#session-who").innerText(), new RegExp(escapeRe(email)));
    assert.equal(new URL(page.url()).searchParams.get("token"), null, "the token should be gone from the URL");
    assert.ok(sdkCalls(requests).includes("POST /magic_links/authenticate"));

    // The reset link: mountResetPassword, strength check per keystroke, then the reset.
    await page.goto(reset.href);
    const newPassword = strongPassword();
    await submitNewPassword(page, newPassword, "consumer-reset");
    await shot(page, "consumer-reset-done");
    assertCalled(requests, ["POST /passwords/strength_check", "POST /passwords/email/reset"], "the reset page");
    assertLoopbackOnly(requests);

    const login = await latch("POST", "/v1/passwords/authenticate", { email, password: newPassword });
    assert.equal(login.status, 200, JSON.stringify(login.json));
    assert.equal(login.json.user_id, created.user_id);
    const old = await latch("POST", "/v1/passwords/authenticate", { email, password: oldPassword });
    assert.equal(old.json.error_type, "unauthorized_credentials");
  },
);
