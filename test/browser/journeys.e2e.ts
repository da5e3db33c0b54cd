/**
 * The browser journeys of issue 4, as one scenario on one server and one IdP:
 * first run, SSO set up through the form, Enforce SSO, a failed SSO sign-in,
 * and an invitation accepted under Enforce SSO. Each step builds on the one
 * before. Real Chromium, the real server on loopback serving the built web
 * app, and a real OpenID provider shaped like Okta.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createSetupLink } from '../../src/accounts/setup.ts';
import { catalogue } from '../../src/errors/catalogue.ts';
import { startProvider, type TestIdp } from '../idp/provider.ts';
import { getTestInstance, type TestInstance } from '../instance.ts';
import {
  assertNoSidewaysScroll,
  eventually,
  focused,
  launchChromium,
  me,
  People,
  resetScreenshots,
  screenshot,
  sessionCookie,
  WEB_ROOT,
} from './harness.ts';

const TEAM = { name: 'Acme Rockets', slug: 'acme-rockets' };
const PASSWORD = 'correct horse battery staple';
const ADMIN = { sub: 'okta-ada', email: 'ada@acme.test', given_name: 'Ada', family_name: 'Lovelace' };
const MEMBER = { sub: 'okta-ben', email: 'ben@acme.test', given_name: 'Ben', family_name: 'Okafor' };
/** Has an account at the IdP, but nobody invited them to the team. */
const STRANGER = { sub: 'okta-eve', email: 'eve@acme.test', given_name: 'Eve', family_name: 'Mallory' };
/** Invited while Enforce SSO is on; the IdP knows them by a longer first name than they type. */
const INVITEE = { sub: 'okta-cleo', email: 'cleo@acme.test', given_name: 'Cleopatra', family_name: 'Nkemelu' };
const CLIENT = { id: 'jams-imes-web', secret: 'okta-client-secret-4f1c9e2a7b' };
const SSO_NAME = 'Okta';

let app: TestInstance;
let idp: TestIdp;
let browser: Browser;
let people: People;

// What the scenario carries from one step to the next.
let admin: Page; // the admin's first browser: password session from setup
let adminSso: Page; // the admin's second browser: SSO session
let memberInviteUrl: string;
let memberPage: Page;

const url = (path: string) => `${app.publicUrl}${path}`;
const pathOf = (page: Page) => new URL(page.url()).pathname;
const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { level: 1, name });

async function waitForDashboard(page: Page, firstName: string): Promise<void> {
  await page.waitForURL((u) => u.origin === app.publicUrl && u.pathname === '/');
  await heading(page, `Welcome, ${firstName}`).waitFor();
}

/** The email step of /login: type the email, press Continue, wait for the methods. */
async function enterEmail(page: Page, email: string): Promise<void> {
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await page.getByRole('button', { name: 'Use a different email' }).waitFor();
}

/**
 * On the IdP's own sign-in page, reached from our "Continue with" button:
 * checks the login hint arrived, optionally signs in as someone else, and
 * submits. With `captureCompletion`, holds the /sso-complete page on screen
 * long enough to photograph it.
 */
async function signInAtIdp(
  page: Page,
  options: { hint: string; as?: string; captureCompletion?: string },
): Promise<void> {
  await page.waitForURL((u) => u.origin === idp.url);
  const email = page.getByLabel('Email');
  // Emails match case-insensitively; the server may pass the hint on in its canonical form.
  assert.equal((await email.inputValue()).toLowerCase(), options.hint.toLowerCase(), 'the IdP prefills the email from login_hint');
  if (options.as) await email.fill(options.as);

  let release = () => {};
  if (options.captureCompletion) {
    const held = new Promise<void>((resolve) => (release = resolve));
    // /sso-complete confirms the session with /api/me before moving on; hold that answer back.
    await page.route(`${app.publicUrl}/api/me`, async (route) => {
      await held;
      await route.continue();
    }, { times: 1 });
  }
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (options.captureCompletion) {
    await page.waitForURL((u) => u.origin === app.publicUrl && u.pathname === '/sso-complete');
    await heading(page, 'Signing you in…').waitFor();
    await screenshot(page, options.captureCompletion);
    release();
  }
}

async function assertSessionCookie(context: BrowserContext): Promise<void> {
  const cookie = await sessionCookie(context, app.publicUrl);
  assert.ok(cookie, 'the browser holds the jams_session cookie');
  assert.equal(cookie.httpOnly, true, 'the session cookie is HttpOnly');
  assert.equal(cookie.sameSite, 'Lax');
  assert.equal(cookie.path, '/');
}

async function ssoSettings(page: Page) {
  const response = await page.request.get(url('/api/integrations/sso'));
  assert.equal(response.status(), 200);
  return (await response.json()) as { redirectUri: string; config: Record<string, any> | null };
}

describe('browser journeys (Chromium, real server, Okta-shaped IdP)', () => {
  before(async () => {
    resetScreenshots();
    app = await getTestInstance({ listen: true, webRoot: WEB_ROOT });
    idp = await startProvider({
      profile: 'okta',
      clients: [{ client_id: CLIENT.id, client_secret: CLIENT.secret, redirect_uris: [url('/auth/sso/callback')] }],
      users: [ADMIN, MEMBER, STRANGER, INVITEE],
    });
    browser = await launchChromium();
    people = new People(browser);
  });

  after(async () => {
    await people?.close();
    await browser?.close();
    await idp?.close();
    await app?.close();
  });

  describe('1. first run: setup, invitation, password sign-in', () => {
    test('the setup link creates the team and its admin, who lands signed in on the dashboard', async () => {
      const link = await createSetupLink(app.ctx);
      assert.ok(link, 'a database with no tenant offers a setup link');
      admin = await people.page('admin');
      await admin.goto(link);
      await heading(admin, 'Set up JAMS IMES').waitFor();
      await screenshot(admin, 'setup');

      await admin.getByLabel('Team name').fill(TEAM.name);
      assert.equal(await admin.getByLabel('Team slug').inputValue(), TEAM.slug, 'the slug follows the team name');
      await admin.getByLabel('Email').fill(ADMIN.email);
      await admin.getByLabel('First name').fill(ADMIN.given_name);
      await admin.getByLabel('Last name').fill(ADMIN.family_name);
      await admin.getByLabel('Password').fill(PASSWORD);
      await admin.getByRole('button', { name: 'Create team' }).click();

      await waitForDashboard(admin, ADMIN.given_name);
      await assertSessionCookie(admin.context());
      assert.equal(await admin.getByTestId('session-method').innerText(), 'Password');
      const { status, body } = await me(admin, app.publicUrl);
      assert.equal(status, 200);
      assert.equal(body.user.email, ADMIN.email);
      assert.equal(body.user.role, 'admin');
      assert.deepEqual([body.tenant.slug, body.tenant.name], [TEAM.slug, TEAM.name]);
      await screenshot(admin, 'dashboard-admin');
    });

    test('the setup link works only once', async () => {
      const page = await people.page('operator');
      assert.equal(await createSetupLink(app.ctx), undefined, 'no setup link once a tenant exists');
      await page.goto(url('/setup'));
      await heading(page, 'Set up JAMS IMES').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Create team' }).count(), 0, 'without the token there is no form');
      await screenshot(page, 'setup-without-link');
      await page.close();
    });

    test('the admin invites a member from /team and is shown the link to copy', async () => {
      await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Team' }).click();
      await heading(admin, 'Team').waitFor();
      await admin.getByLabel('Email').fill(MEMBER.email);
      assert.equal(await admin.getByLabel('Role').inputValue(), 'member');
      await admin.getByRole('button', { name: 'Invite' }).click();

      const link = admin.getByTestId('invite-url');
      await link.waitFor();
      memberInviteUrl = (await link.innerText()).trim();
      assert.match(memberInviteUrl, new RegExp(`^${app.publicUrl}/invite/[^/\\s]+$`));
      const pending = admin.getByRole('listitem').filter({ hasText: MEMBER.email });
      await pending.getByRole('button', { name: 'Revoke' }).waitFor();
      await screenshot(admin, 'team-invited');
    });

    test('the member accepts the invitation with a name and a password and lands signed in', async () => {
      memberPage = await people.page('member');
      await memberPage.goto(memberInviteUrl);
      await heading(memberPage, `Join ${TEAM.name}`).waitFor();
      assert.match(await memberPage.locator('main').innerText(), new RegExp(escapeRegExp(MEMBER.email)));
      await screenshot(memberPage, 'invite-password');

      await memberPage.getByLabel('First name').fill(MEMBER.given_name);
      await memberPage.getByLabel('Last name').fill(MEMBER.family_name);
      await memberPage.getByLabel('Password').fill(PASSWORD);
      await memberPage.getByRole('button', { name: 'Accept invitation' }).click();

      await waitForDashboard(memberPage, MEMBER.given_name);
      await assertSessionCookie(memberPage.context());
      const { body } = await me(memberPage, app.publicUrl);
      assert.deepEqual([body.user.email, body.user.role], [MEMBER.email, 'member']);
      assert.equal(await memberPage.getByRole('link', { name: 'Team' }).count(), 0, 'a member sees no admin pages');
      await screenshot(memberPage, 'dashboard-member');
    });

    test('the invitation link works only once', async () => {
      const page = await people.page('someone with the old link');
      await page.goto(memberInviteUrl);
      await heading(page, "This invitation can't be used").waitFor();
      assert.match(await page.getByRole('alert').innerText(), new RegExp(escapeRegExp(catalogue.invitation_invalid.message)));
      await screenshot(page, 'invite-used');
      await page.close();
    });

    test('the member signs out, then back in with the password using only the keyboard', async () => {
      await memberPage.getByRole('button', { name: 'Sign out' }).click();
      await memberPage.waitForURL(url('/login'));
      assert.equal((await me(memberPage, app.publicUrl)).status, 401, 'signing out ends the session on the server');

      await memberPage.getByLabel('Email', { exact: true }).waitFor();
      assert.deepEqual(await focused(memberPage), { tag: 'input', type: 'email', name: 'Email' }, '/login opens with the email field focused');
      await screenshot(memberPage, 'login-email');
      await memberPage.keyboard.type(MEMBER.email);
      await memberPage.keyboard.press('Tab');
      assert.deepEqual(await focused(memberPage), { tag: 'button', type: 'submit', name: 'Continue' }, 'Tab reaches Continue');
      await memberPage.keyboard.press('Enter');

      await memberPage.getByLabel('Password', { exact: true }).waitFor();
      assert.equal(await memberPage.getByRole('button', { name: /^Continue with/ }).count(), 0, 'no SSO yet');
      await eventually('the password field takes the focus', async () => (await focused(memberPage)).type === 'password');
      await memberPage.keyboard.type(PASSWORD);
      await screenshot(memberPage, 'login-password');
      await memberPage.keyboard.press('Tab');
      assert.deepEqual(await focused(memberPage), { tag: 'button', type: 'submit', name: 'Sign in' }, 'Tab reaches Sign in');
      await memberPage.keyboard.press('Enter');

      await waitForDashboard(memberPage, MEMBER.given_name);
      await assertSessionCookie(memberPage.context());
      assert.equal(await memberPage.getByTestId('session-method').innerText(), 'Password');
    });

    test('the admin creates a bot and is shown its token once', async () => {
      await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Bots' }).click();
      await heading(admin, 'Bots').waitFor();
      await screenshot(admin, 'bots-empty');
      await admin.getByLabel('Name').fill('Nightly export');
      await admin.getByLabel('Token expires').selectOption({ label: 'After 90 days' });
      await admin.getByRole('button', { name: 'Create bot' }).click();

      const token = (await admin.getByTestId('bot-token').innerText()).trim();
      assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the token is a JWT');
      const answer = await fetch(url('/api/me'), { headers: { authorization: `Bearer ${token}` } });
      assert.equal(answer.status, 200);
      assert.equal(((await answer.json()) as { bot: { name: string } }).bot.name, 'Nightly export');
      await screenshot(admin, 'bots-token');

      await admin.getByRole('button', { name: 'I have copied the token' }).click();
      await admin.getByRole('listitem').filter({ hasText: 'Nightly export' }).getByRole('button', { name: 'Revoke' }).waitFor();
      assert.equal(await admin.getByTestId('bot-token').count(), 0, 'the token is not shown again');
    });

    test('an unknown path shows the not-found page', async () => {
      const page = await people.page('lost visitor');
      await page.goto(url('/no/such/page'));
      await heading(page, 'Page not found').waitFor();
      await page.getByRole('link', { name: 'Sign in' }).waitFor();
      await screenshot(page, 'not-found');
      await page.close();
    });
  });

  describe('2. the admin configures SSO, signs in through it, and enforces it', () => {
    test('the SSO page starts empty, with the redirect URI to register', async () => {
      await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Single sign-on' }).click();
      await heading(admin, 'Single sign-on').waitFor();
      assert.equal((await admin.getByTestId('redirect-uri').innerText()).trim(), url('/auth/sso/callback'));
      await admin.getByText('No single sign-on attempts yet.').waitFor();
      assert.equal((await ssoSettings(admin)).config, null);
      await screenshot(admin, 'sso-empty');
    });

    test('the admin picks Okta, reads its hints, and saves with the discovery URL pasted as the issuer', async () => {
      await admin.getByRole('radio', { name: 'Okta' }).check();
      await admin.getByText('https://<org>.okta.com/oauth2/default').waitFor();
      await admin.getByText(/Assign people, or groups they belong to/).waitFor();
      assert.equal(await admin.getByLabel('Configuration name').inputValue(), 'Okta', 'the name follows the provider');

      await admin.getByLabel('Configuration name').fill(SSO_NAME);
      await admin.getByLabel('Issuer URL').fill(`${idp.issuer}/.well-known/openid-configuration`);
      await admin.getByLabel('Client ID').fill(CLIENT.id);
      await admin.getByLabel('Client Secret').fill(CLIENT.secret);
      await admin.getByText('Advanced: scopes and claims').click();
      assert.equal(await admin.getByLabel('Scopes').inputValue(), 'openid profile email');
      assert.equal(await admin.getByLabel('Email claim').inputValue(), 'email');
      assert.equal(await admin.getByLabel('First name claim').inputValue(), 'given_name');
      assert.equal(await admin.getByLabel('Last name claim').inputValue(), 'family_name');
      await screenshot(admin, 'sso-form-okta');

      await admin.getByRole('button', { name: 'Save' }).click();
      const saved = admin.getByTestId('sso-saved');
      await saved.waitFor({ timeout: 15_000 });
      assert.ok((await saved.innerText()).includes(idp.issuer), 'the page says which issuer was saved');
      assert.ok(!(await saved.innerText()).includes('.well-known'));
      assert.match(await admin.getByTestId('sso-warnings').innerText(), /http/i, 'an http: issuer is warned about');
      await admin.getByRole('heading', { name: 'Active SSO configuration' }).waitFor();
      assert.equal(await admin.getByTestId('client-secret-status').innerText(), 'set');
      assert.ok(!(await admin.locator('body').innerText()).includes(CLIENT.secret), 'the secret is never shown');
      await admin.getByTestId('enforce-unverified').waitFor();

      const { config } = await ssoSettings(admin);
      assert.ok(config);
      assert.equal(config.issuer, idp.issuer);
      assert.deepEqual([config.name, config.clientId, config.hasClientSecret, config.verified, config.enforce], [SSO_NAME, CLIENT.id, true, false, false]);
      await screenshot(admin, 'sso-active');
    });

    test('Enforce SSO is refused until an admin has signed in through SSO', async () => {
      const enforce = admin.getByRole('checkbox', { name: 'Enforce SSO' });
      await enforce.click();
      await admin.getByRole('alert').filter({ hasText: catalogue.enforce_requires_verified_sso.message }).waitFor();
      await eventually('the switch goes back off', async () => !(await enforce.isChecked()));
      assert.equal((await ssoSettings(admin)).config?.enforce, false);
      await screenshot(admin, 'sso-enforce-refused');
    });

    test('in a fresh browser, the admin signs in through Okta and lands on the dashboard', async () => {
      adminSso = await people.page('admin (SSO)');
      await adminSso.goto(url('/login'));
      await enterEmail(adminSso, ADMIN.email.toUpperCase());
      await adminSso.getByRole('button', { name: `Continue with ${SSO_NAME}` }).waitFor();
      assert.equal(await adminSso.getByLabel('Password', { exact: true }).count(), 1, 'password is still offered beside SSO');
      await screenshot(adminSso, 'login-sso-or-password');

      await adminSso.getByRole('button', { name: `Continue with ${SSO_NAME}` }).click();
      await signInAtIdp(adminSso, { hint: ADMIN.email.toUpperCase(), captureCompletion: 'sso-complete' });

      await waitForDashboard(adminSso, ADMIN.given_name);
      assert.equal(await adminSso.getByTestId('session-method').innerText(), 'Single sign-on');
      await assertSessionCookie(adminSso.context());
      const { body } = await me(adminSso, app.publicUrl);
      assert.deepEqual([body.user.email, body.user.role], [ADMIN.email, 'admin']);
      await screenshot(adminSso, 'dashboard-admin-sso');
    });

    test('meanwhile, the member has /login open at the password step', async () => {
      // Set up for journey 3: a tab opened before Enforce SSO, then submitted after.
      await memberPage.getByRole('button', { name: 'Sign out' }).click();
      await memberPage.waitForURL(url('/login'));
      await enterEmail(memberPage, MEMBER.email);
      await memberPage.getByLabel('Password', { exact: true }).waitFor();
      await memberPage.getByRole('button', { name: `Continue with ${SSO_NAME}` }).waitFor();
    });

    test('the configuration is now verified, and the admin turns Enforce SSO on', async () => {
      await adminSso.getByRole('link', { name: 'Single sign-on' }).first().click();
      await adminSso.getByRole('heading', { name: 'Active SSO configuration' }).waitFor();
      await adminSso.getByText('Verified', { exact: true }).waitFor();
      assert.equal(await adminSso.getByTestId('enforce-unverified').count(), 0);

      const enforce = adminSso.getByRole('checkbox', { name: 'Enforce SSO' });
      assert.equal(await enforce.isChecked(), false);
      await enforce.click();
      await eventually('the server has Enforce SSO on', async () => (await ssoSettings(adminSso)).config?.enforce === true);
      await eventually('the switch settles on', async () => (await enforce.isChecked()) && (await enforce.getAttribute('aria-busy')) === null);
      assert.equal(await adminSso.getByRole('alert').count(), 0, 'no refusal this time');

      const row = adminSso.getByRole('row').filter({ hasText: ADMIN.email });
      await row.getByText('Signed in').waitFor();
      await screenshot(adminSso, 'sso-enforced');
    });
  });

  describe('3. under Enforce SSO, the member signs in through SSO, not a password', () => {
    test("the member's password sign-in is refused with the enforced-SSO message", async () => {
      await memberPage.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await memberPage.getByRole('button', { name: 'Sign in', exact: true }).click();
      const refusal = memberPage.getByRole('alert').filter({ hasText: catalogue.sso_enforced.message });
      await refusal.waitFor();
      assert.ok((await refusal.innerText()).includes(catalogue.sso_enforced.fix));
      assert.equal(await sessionCookie(memberPage.context(), app.publicUrl), undefined, 'no session was made');
      assert.equal(pathOf(memberPage), '/login');
      await memberPage.getByRole('button', { name: `Continue with ${SSO_NAME}` }).waitFor();
      assert.equal(await memberPage.getByLabel('Password', { exact: true }).count(), 0, 'the refused password form is withdrawn');
      await screenshot(memberPage, 'login-sso-enforced-refusal');
    });

    test('starting again, /login offers the member only the SSO button, which signs them in', async () => {
      await memberPage.getByRole('button', { name: 'Use a different email' }).click();
      await enterEmail(memberPage, MEMBER.email);
      const sso = memberPage.getByRole('button', { name: `Continue with ${SSO_NAME}` });
      await sso.waitFor();
      assert.equal(await memberPage.getByLabel('Password', { exact: true }).count(), 0, 'no password option under Enforce SSO');
      await eventually('the SSO button takes the focus', async () => (await focused(memberPage)).name === `Continue with ${SSO_NAME}`);
      await screenshot(memberPage, 'login-sso-only');

      await sso.click();
      await signInAtIdp(memberPage, { hint: MEMBER.email });
      await waitForDashboard(memberPage, MEMBER.given_name);
      assert.equal(await memberPage.getByTestId('session-method').innerText(), 'Single sign-on');
      await assertSessionCookie(memberPage.context());
      const { body } = await me(memberPage, app.publicUrl);
      assert.deepEqual([body.user.email, body.user.role], [MEMBER.email, 'member']);
    });
  });

  describe('4. a failed SSO sign-in explains itself', () => {
    let ref = '';

    test('signing in at the IdP as someone nobody invited shows the user_not_provisioned sentence and a ref', async () => {
      const page = await people.page('stranger');
      await page.goto(url('/login'));
      await enterEmail(page, MEMBER.email);
      await page.getByRole('button', { name: `Continue with ${SSO_NAME}` }).click();
      await signInAtIdp(page, { hint: MEMBER.email, as: STRANGER.email });

      await page.waitForURL((u) => u.origin === app.publicUrl && u.pathname === '/login');
      const query = new URL(page.url()).searchParams;
      assert.equal(query.get('sso_error'), 'user_not_provisioned');
      ref = query.get('ref') ?? '';
      assert.ok(ref, 'the URL carries a correlation ref');

      const notice = page.getByTestId('sso-error');
      await notice.waitFor();
      const text = await notice.innerText();
      assert.ok(text.includes(catalogue.user_not_provisioned.message), text);
      assert.ok(text.includes(catalogue.user_not_provisioned.fix), text);
      assert.equal((await page.getByTestId('sso-ref').innerText()).trim(), ref);
      assert.equal(await sessionCookie(page.context(), app.publicUrl), undefined, 'no session was made');
      // The email step is still there to try again.
      await page.getByLabel('Email', { exact: true }).waitFor();
      await screenshot(page, 'login-sso-error');
      await page.close();
    });

    test('the admin finds the failed attempt by its ref on the SSO page', async () => {
      await adminSso.getByRole('button', { name: 'Refresh' }).click();
      const row = adminSso.getByRole('row').filter({ hasText: ref });
      await row.waitFor();
      const text = await row.innerText();
      assert.ok(text.includes(STRANGER.email), 'the attempt shows the email the IdP returned');
      assert.ok(text.includes('user_not_provisioned'));
      await row.scrollIntoViewIfNeeded();
      await screenshot(adminSso, 'sso-attempts');
    });
  });

  describe('5. under Enforce SSO, an invitee accepts with a name only', () => {
    let inviteUrl = '';

    test('the admin invites a new member', async () => {
      await adminSso.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Team' }).click();
      await heading(adminSso, 'Team').waitFor();
      await adminSso.getByLabel('Email').fill(INVITEE.email);
      await adminSso.getByRole('button', { name: 'Invite' }).click();
      inviteUrl = (await adminSso.getByTestId('invite-url').innerText()).trim();
      assert.match(inviteUrl, /\/invite\/[^/\s]+$/);
    });

    test('the invitee gives a name, skips the password, and lands signed in through the IdP', async () => {
      const page = await people.page('invitee');
      await page.goto(inviteUrl);
      await heading(page, `Join ${TEAM.name}`).waitFor();
      assert.equal(await page.getByLabel('Password').count(), 0, 'no password step under Enforce SSO');
      await page.getByText(`Next you will continue to ${SSO_NAME}`).waitFor();
      await screenshot(page, 'invite-sso-enforced');

      await page.getByLabel('First name').fill('Cleo');
      await page.getByLabel('Last name').fill(INVITEE.family_name);
      await page.getByRole('button', { name: 'Accept invitation' }).click();
      await signInAtIdp(page, { hint: INVITEE.email });

      await waitForDashboard(page, 'Cleo');
      assert.equal(await page.getByTestId('session-method').innerText(), 'Single sign-on');
      await assertSessionCookie(page.context());
      const { body } = await me(page, app.publicUrl);
      assert.deepEqual(
        [body.user.email, body.user.firstName, body.user.lastName, body.user.role],
        [INVITEE.email, 'Cleo', INVITEE.family_name, 'member'],
        'the name typed on the invitation is kept',
      );
    });

    test('the team page lists the new member as linked to SSO, with no invitation pending', async () => {
      await adminSso.reload();
      await heading(adminSso, 'Team').waitFor();
      const row = adminSso.getByRole('listitem').filter({ hasText: INVITEE.email });
      await row.getByText('SSO linked').waitFor();
      await row.getByRole('button', { name: 'Clear SSO identity' }).waitFor();
      await row.getByRole('button', { name: 'Deactivate' }).waitFor();
      await adminSso.getByText('No pending invitations.', { exact: false }).waitFor();
      await screenshot(adminSso, 'team-members');
    });
  });

  describe('on a 360 px wide phone', () => {
    let phone: Page;

    before(async () => {
      const state = await adminSso.context().storageState();
      phone = await people.page('admin (phone)', { viewport: { width: 360, height: 780 }, storageState: state, isMobile: true, hasTouch: true });
    });

    for (const [path, name, ready] of [
      ['/login', 'login-360', (p: Page) => p.getByRole('button', { name: 'Continue', exact: true }).waitFor()],
      ['/team', 'team-360', (p: Page) => p.getByRole('listitem').filter({ hasText: INVITEE.email }).getByText('SSO linked').waitFor()],
      ['/integrations/sso', 'sso-360', (p: Page) => p.getByRole('row').filter({ hasText: STRANGER.email }).waitFor()],
    ] as const) {
      test(`${path} fits without scrolling sideways`, async () => {
        await phone.goto(url(path));
        await ready(phone);
        const width = await phone.evaluate(() => document.scrollingElement!.scrollWidth);
        assert.ok(width <= 360, `${path} is ${width}px wide`);
        await screenshot(phone, name);
      });
    }

    test('/login with an SSO failure and its ref fits too', async () => {
      await phone.goto(url('/login?sso_error=sso_identity_mismatch&ref=01JZ8R6W3ZQ4N7XK5V2T9B0MCA'));
      await phone.getByTestId('sso-error').waitFor();
      await assertNoSidewaysScroll(phone);
      await screenshot(phone, 'login-sso-error-360');
    });
  });

  test('no page threw or logged an error along the way', () => {
    assert.deepEqual(people.problems, []);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
