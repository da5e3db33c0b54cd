import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { calculatePKCECodeChallenge } from 'openid-client';
import { startProvider, type IdpProfile, type TestIdp } from '../../test/idp/provider.ts';
import { getTestInstance, PASSWORD, type Seeded, type TestInstance } from '../../test/instance.ts';
import { seedSsoConfig } from '../../test/sso-rows.ts';
import {
  assertRefused,
  assertSignedIn,
  configure,
  finish,
  putSso,
  realIdp,
  redirectUriOf,
  signIn,
  start,
  throughIdp,
} from '../../test/sso-driver.ts';
import { recordAttempt } from './attempts.ts';
import { BINDING_COOKIE, bindingFor, issueState, STATE_TTL_MS } from './state.ts';
import { disableEnforcement } from './summary.ts';

const linkOf = (t: TestInstance, userId: string) =>
  t.ctx.db.one<{ sso_issuer: string | null; sso_subject: string | null; first_name: string; last_name: string }>(
    'SELECT sso_issuer, sso_subject, first_name, last_name FROM users WHERE id = $1',
    [userId],
  );

describe('SSO sign-in through real OpenID providers, set up as an admin types them', () => {
  let t: TestInstance;
  before(async () => {
    t = await getTestInstance();
  });
  after(() => t.close());

  const profiles: [IdpProfile, string][] = [
    ['auth0', 'an Auth0-like IdP that publishes its issuer with a trailing slash'],
    ['okta', 'an Okta-like /oauth2/default issuer'],
    ['entra', 'an Entra-like /<directory-id>/v2.0 issuer whose tokens carry no email_verified'],
    ['google', 'a Google-like issuer'],
  ];
  for (const [profile, title] of profiles) {
    test(`${title} signs the admin in, links the IdP subject and records the attempt`, async (context) => {
      const seeded = await t.seedTenant();
      const idp = await realIdp(t, { profile, users: [{ sub: `${profile}-sub-1`, email: seeded.admin.email.toUpperCase() }] });
      context.after(() => idp.close());
      await configure(t, seeded.admin.token, { name: profile, issuer: idp.typedIssuer, clientId: idp.clientId, clientSecret: idp.clientSecret! });
      idp.setNextLogin(`${profile}-sub-1`);

      const done = await signIn(t, seeded.tenant.slug);
      const me = await assertSignedIn(t, done, seeded.admin.email);
      assert.equal(done.location, '/sso-complete');
      assert.equal(me.tenant.slug, seeded.tenant.slug);
      const link = await linkOf(t, seeded.admin.id);
      assert.equal(link?.sso_issuer, idp.issuer, 'linked under the issuer exactly as the IdP reports it');
      assert.equal(link?.sso_subject, `${profile}-sub-1`);

      const attempts = (await t.inject({ method: 'GET', url: '/api/integrations/sso/attempts', token: seeded.admin.token })).json().attempts;
      assert.equal(attempts.length, 1);
      assert.equal(attempts[0].result, 'ok');
      assert.equal(attempts[0].email, seeded.admin.email.toUpperCase());
      assert.match(attempts[0].ref, /^[0-9a-f]{10}$/);
      assert.equal(attempts[0].at, new Date(t.clock.now()).toISOString());
    });
  }

  test('a public client without a secret signs in with PKCE alone', async (context) => {
    const seeded = await t.seedTenant();
    const idp = await realIdp(t, { profile: 'okta', clientSecret: null, users: [{ sub: 'public-1', email: seeded.admin.email }] });
    context.after(() => idp.close());
    const saved = await configure(t, seeded.admin.token, { issuer: idp.typedIssuer, clientId: idp.clientId });
    assert.equal(saved.config.hasClientSecret, false);
    idp.setNextLogin('public-1');
    await assertSignedIn(t, await signIn(t, seeded.tenant.slug), seeded.admin.email);
  });

  test('when the ID token has no email, it is read from UserInfo and the empty names are filled in', async (context) => {
    const seeded = await t.seedTenant();
    const member = await t.seedUser(seeded.tenant.id, { email: 'grace@example.com' });
    await t.ctx.db.run("UPDATE users SET first_name = '', last_name = '' WHERE id = $1", [member.id]);
    const idp = await realIdp(t, {
      profile: 'google',
      claimsInIdToken: false,
      users: [{ sub: 'grace', email: 'grace@example.com', given_name: 'Grace', family_name: 'Hopper' }],
    });
    context.after(() => idp.close());
    await configure(t, seeded.admin.token, { issuer: idp.typedIssuer, clientId: idp.clientId, clientSecret: idp.clientSecret! });
    idp.setNextLogin('grace');
    const me = await assertSignedIn(t, await signIn(t, seeded.tenant.slug), 'grace@example.com');
    assert.equal(me.user.firstName, 'Grace');
    assert.equal(me.user.lastName, 'Hopper');
  });

  test('names a member already has are kept; names come from the configured claims', async (context) => {
    const seeded = await t.seedTenant();
    const member = await t.seedUser(seeded.tenant.id, { email: 'alan@example.com' });
    await t.ctx.db.run("UPDATE users SET first_name = 'Al', last_name = '' WHERE id = $1", [member.id]);
    const idp = await realIdp(t, { profile: 'okta', users: [{ sub: 'alan', email: 'alan@example.com', given_name: 'Alan', family_name: 'Turing' }] });
    context.after(() => idp.close());
    // The last name is mapped from given_name here, to prove the mapping is read.
    await configure(t, seeded.admin.token, {
      issuer: idp.typedIssuer,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret!,
      claims: { lastName: 'given_name' },
    });
    idp.setNextLogin('alan');
    const me = await assertSignedIn(t, await signIn(t, seeded.tenant.slug), 'alan@example.com');
    assert.equal(me.user.firstName, 'Al');
    assert.equal(me.user.lastName, 'Alan');
  });

  test('the authorization request carries code, scope, PKCE S256, nonce, signed state and login_hint, and never the verifier', async (context) => {
    const seeded = await t.seedTenant();
    const idp = await realIdp(t, { profile: 'okta', users: [{ sub: 'hint', email: seeded.admin.email }] });
    context.after(() => idp.close());
    await configure(t, seeded.admin.token, { issuer: idp.typedIssuer, clientId: idp.clientId, clientSecret: idp.clientSecret!, scopes: 'openid  email' });

    const started = await start(t, { tenant: seeded.tenant.slug, login_hint: seeded.admin.email });
    const params = started.location.searchParams;
    assert.equal(`${started.location.origin}${started.location.pathname}`, `${idp.issuer}/auth`);
    assert.equal(params.get('response_type'), 'code');
    assert.equal(params.get('client_id'), idp.clientId);
    assert.equal(params.get('redirect_uri'), redirectUriOf(t));
    assert.equal(params.get('scope'), 'openid email');
    assert.equal(params.get('code_challenge_method'), 'S256');
    assert.match(params.get('code_challenge') ?? '', /^[\w-]{43}$/);
    assert.match(params.get('nonce') ?? '', /^[\w-]{20,}$/);
    assert.equal(params.get('login_hint'), seeded.admin.email);
    assert.equal(params.get('state')?.split('.').length, 3, 'the state is a signed JWT');
    assert.equal(params.has('code_verifier'), false);

    const row = await t.ctx.db.one<{ id: string; code_verifier_enc: string }>('SELECT id, code_verifier_enc FROM sso_states WHERE tenant_id = $1', [
      seeded.tenant.id,
    ]);
    const verifier = await t.ctx.sealer.open(row!.code_verifier_enc, `sso_state:${row!.id}`);
    assert.ok(!started.location.href.includes(verifier));
    assert.equal(params.get('code_challenge'), await calculatePKCECodeChallenge(verifier), 'the S256 challenge of the stored verifier');

    const cookie = started.response.cookies.find((c) => c.name === BINDING_COOKIE)!;
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(cookie.path, '/auth/sso');
    assert.equal(cookie.maxAge, 300);
    assert.equal(started.response.headers['cache-control'], 'no-store');
  });

  test('return_to survives the round trip when it is a same-origin path, and is ignored otherwise', async (context) => {
    const seeded = await t.seedTenant();
    const idp = await realIdp(t, { profile: 'okta', users: [{ sub: 'rt', email: seeded.admin.email }] });
    context.after(() => idp.close());
    await configure(t, seeded.admin.token, { issuer: idp.typedIssuer, clientId: idp.clientId, clientSecret: idp.clientSecret! });
    idp.setNextLogin('rt');
    const kept = await signIn(t, seeded.tenant.slug, { returnTo: '/team?tab=bots#new' });
    assert.equal(kept.location, `/sso-complete?return_to=${encodeURIComponent('/team?tab=bots#new')}`);
    for (const returnTo of ['https://evil.example/x', '//evil.example/x', '/\\evil.example', '/\t/evil.example', 'javascript:alert(1)', 'team']) {
      const ignored = await signIn(t, seeded.tenant.slug, { returnTo });
      assert.equal(ignored.location, '/sso-complete', returnTo);
    }
  });

  test('an unknown tenant and a tenant without SSO are refused with sso_not_configured', async () => {
    const seeded = await t.seedTenant();
    for (const query of [{ tenant: 'no-such-tenant' }, { tenant: seeded.tenant.slug }, {}] as Record<string, string>[]) {
      await assertRefused(t, await start(t, query), 'sso_not_configured');
    }
    const attempts = (await t.inject({ method: 'GET', url: '/api/integrations/sso/attempts', token: seeded.admin.token })).json().attempts;
    assert.deepEqual(
      attempts.map((a: { result: string }) => a.result),
      ['sso_not_configured'],
    );
  });

  test('a configuration whose stored metadata is unusable is refused with sso_discovery_failed, not an error page', async () => {
    const seeded = await t.seedTenant();
    await seedSsoConfig(t.ctx.db, seeded.tenant.id, { name: 'Broken' }, t.clock.now());
    await assertRefused(t, await start(t, { tenant: seeded.tenant.slug }), 'sso_discovery_failed');
  });
});

describe('who an SSO sign-in lets in', () => {
  let t: TestInstance;
  let seeded: Seeded;
  let idp: TestIdp & { clientId: string; clientSecret: string | undefined };

  before(async () => {
    t = await getTestInstance();
    seeded = await t.seedTenant();
    idp = await realIdp(t, { profile: 'okta' });
    await configure(t, seeded.admin.token, { issuer: idp.typedIssuer, clientId: idp.clientId, clientSecret: idp.clientSecret! });
  });
  after(async () => {
    await idp.close();
    await t.close();
  });

  /** Signs in at the IdP as a user with this sub and email. */
  async function as(sub: string, email: string, extra: { email_verified?: boolean } = {}) {
    idp.addUser({ sub, email, ...extra });
    idp.setNextLogin(sub);
    return signIn(t, seeded.tenant.slug);
  }

  test('an IdP email in another case matches the member', async () => {
    await t.seedUser(seeded.tenant.id, { email: 'kevin.casey@example.com' });
    await assertSignedIn(t, await as('kevin', 'Kevin.Casey@Example.com'), 'kevin.casey@example.com');
  });

  test('an email that belongs to no member of this tenant is refused with user_not_provisioned, even if another tenant has it', async () => {
    const other = await t.seedTenant();
    await t.seedUser(other.tenant.id, { email: 'outsider@example.com' });
    await assertRefused(t, await as('outsider', 'outsider@example.com'), 'user_not_provisioned');
    await assertRefused(t, await as('alias', 'kevin.casey+sso@example.com'), 'user_not_provisioned');
    const count = await t.ctx.db.one<{ n: number | string }>('SELECT count(*) AS n FROM users WHERE tenant_id = $1', [seeded.tenant.id]);
    const attempts = (await t.inject({ method: 'GET', url: '/api/integrations/sso/attempts', token: seeded.admin.token })).json().attempts;
    assert.equal(attempts[0].result, 'user_not_provisioned');
    assert.equal(attempts[0].email, 'kevin.casey+sso@example.com');
    assert.equal(attempts[1].email, 'outsider@example.com');
    assert.ok(Number(count?.n) >= 1, 'SSO never creates users');
    assert.equal(
      await t.ctx.db.one('SELECT id FROM users WHERE tenant_id = $1 AND email = $2', [seeded.tenant.id, 'outsider@example.com']),
      undefined,
    );
  });

  test('a deactivated member is refused with account_disabled', async () => {
    const member = await t.seedUser(seeded.tenant.id, { email: 'gone@example.com' });
    const deactivated = await t.inject({ method: 'POST', url: `/api/members/${member.id}/deactivate`, token: seeded.admin.token });
    assert.equal(deactivated.statusCode, 200);
    await assertRefused(t, await as('gone', 'gone@example.com'), 'account_disabled');
  });

  test('the IdP returning email_verified false is refused with sso_email_unverified', async () => {
    await t.seedUser(seeded.tenant.id, { email: 'unverified@example.com' });
    await assertRefused(t, await as('unverified', 'unverified@example.com', { email_verified: false }), 'sso_email_unverified');
  });

  test('a member linked to one IdP subject is refused with sso_identity_mismatch for another, until an admin clears the link', async () => {
    const member = await t.seedUser(seeded.tenant.id, { email: 'linked@example.com' });
    await assertSignedIn(t, await as('linked-1', 'linked@example.com'), 'linked@example.com');
    // The IdP now has another account with the same email.
    await assertRefused(t, await as('linked-2', 'linked@example.com'), 'sso_identity_mismatch');
    assert.equal((await linkOf(t, member.id))?.sso_subject, 'linked-1');

    const cleared = await t.inject({ method: 'DELETE', url: `/api/members/${member.id}/sso-identity`, token: seeded.admin.token });
    assert.equal(cleared.statusCode, 204);
    await assertSignedIn(t, await as('linked-2', 'linked@example.com'), 'linked@example.com');
    assert.equal((await linkOf(t, member.id))?.sso_subject, 'linked-2');
  });

  test('an IdP subject already linked to one member cannot sign in as another (sso_identity_mismatch)', async () => {
    await t.seedUser(seeded.tenant.id, { email: 'first@example.com' });
    await t.seedUser(seeded.tenant.id, { email: 'second@example.com' });
    await assertSignedIn(t, await as('shared-sub', 'first@example.com'), 'first@example.com');
    // The same IdP account, its email changed at the IdP to another member's.
    await assertRefused(t, await as('shared-sub', 'second@example.com'), 'sso_identity_mismatch');
  });

  test('after the tenant switches to another IdP, members are linked again by email', async () => {
    const member = await t.seedUser(seeded.tenant.id, { email: 'mover@example.com' });
    await assertSignedIn(t, await as('mover-old', 'mover@example.com'), 'mover@example.com');
    const next = await realIdp(t, { profile: 'entra', clientId: idp.clientId, users: [{ sub: 'mover-new', email: 'mover@example.com' }] });
    try {
      await configure(t, seeded.admin.token, { issuer: next.typedIssuer, clientId: next.clientId, clientSecret: next.clientSecret! });
      next.setNextLogin('mover-new');
      await assertSignedIn(t, await signIn(t, seeded.tenant.slug), 'mover@example.com');
      assert.deepEqual(await linkOf(t, member.id).then((row) => [row?.sso_issuer, row?.sso_subject]), [next.issuer, 'mover-new']);
    } finally {
      await next.close();
      await configure(t, seeded.admin.token, { issuer: idp.typedIssuer, clientId: idp.clientId, clientSecret: idp.clientSecret! });
    }
  });

  test('the IdP answering access_denied (user not assigned) is refused with sso_access_denied', async () => {
    await t.seedUser(seeded.tenant.id, { email: 'unassigned@example.com' });
    idp.addUser({ sub: 'unassigned', email: 'unassigned@example.com' });
    idp.setNextLogin('unassigned');
    idp.denyNext();
    await assertRefused(t, await signIn(t, seeded.tenant.slug), 'sso_access_denied');
  });

  test('attempts list newest first with the email, result and the ref the user saw', async () => {
    await t.seedUser(seeded.tenant.id, { email: 'ordered@example.com' });
    t.clock.advance(1_000);
    const refused = await as('ordered-x', 'nobody@example.com');
    t.clock.advance(1_000);
    const accepted = await as('ordered', 'ordered@example.com');
    const attempts = (await t.inject({ method: 'GET', url: '/api/integrations/sso/attempts', token: seeded.admin.token })).json().attempts;
    assert.equal(attempts[1].ref, refused.ref);
    assert.deepEqual(
      { email: attempts[1].email, result: attempts[1].result },
      { email: 'nobody@example.com', result: 'user_not_provisioned' },
    );
    assert.deepEqual({ email: attempts[0].email, result: attempts[0].result }, { email: 'ordered@example.com', result: 'ok' });
    assert.equal(accepted.ref, null);
    assert.ok(attempts.length <= 50);
  });
});

describe('Enforce SSO', () => {
  let t: TestInstance;
  let seeded: Seeded;
  let idp: TestIdp & { clientId: string; clientSecret: string | undefined };

  before(async () => {
    t = await getTestInstance();
    seeded = await t.seedTenant();
    idp = await realIdp(t, { profile: 'entra', users: [{ sub: 'admin-sub', email: seeded.admin.email }] });
  });
  after(async () => {
    await idp.close();
    await t.close();
  });

  const settings = () => ({ issuer: idp.typedIssuer, clientId: idp.clientId, clientSecret: idp.clientSecret! });

  test('a member signing in does not verify the configuration; an admin does, and then Enforce SSO turns on', async () => {
    await configure(t, seeded.admin.token, settings());
    await t.seedUser(seeded.tenant.id, { email: 'member@example.com' });
    idp.addUser({ sub: 'member-sub', email: 'member@example.com' });
    idp.setNextLogin('member-sub');
    await assertSignedIn(t, await signIn(t, seeded.tenant.slug), 'member@example.com');
    assert.equal((await putSso(t, seeded.admin.token, { ...settings(), enforce: true })).json().error, 'enforce_requires_verified_sso');

    idp.setNextLogin('admin-sub');
    await assertSignedIn(t, await signIn(t, seeded.tenant.slug), seeded.admin.email);
    const enforced = await configure(t, seeded.admin.token, { ...settings(), enforce: true });
    assert.equal(enforced.config.enforce, true);
  });

  test('password login is refused with sso_enforced and discovery offers only the SSO button', async () => {
    const refused = await t.inject({ method: 'POST', url: '/api/auth/password', payload: { email: seeded.admin.email, password: PASSWORD } });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error, 'sso_enforced');
    const discovered = await t.inject({ method: 'POST', url: '/api/auth/discover', payload: { email: seeded.admin.email } });
    assert.equal(discovered.json().password, false);
    assert.deepEqual(discovered.json().sso.map((option: { tenant: { slug: string } }) => option.tenant.slug), [seeded.tenant.slug]);
    // The SSO button still works.
    idp.setNextLogin('admin-sub');
    await assertSignedIn(t, await signIn(t, seeded.tenant.slug), seeded.admin.email);
  });

  test('an invitation accepted under Enforce SSO goes to the IdP, and the first SSO sign-in completes the account', async () => {
    const invited = await t.inject({
      method: 'POST',
      url: '/api/members/invitations',
      token: seeded.admin.token,
      payload: { email: 'newcomer@example.com', role: 'member' },
    });
    const token = new URL(invited.json().inviteUrl).pathname.split('/').at(-1)!;
    const accepted = await t.inject({ method: 'POST', url: `/api/invitations/${token}/accept`, payload: { firstName: 'New', lastName: 'Comer' } });
    assert.equal(accepted.statusCode, 200);
    const redirect = accepted.json().redirect as string;
    assert.equal(redirect, `/auth/sso/start?tenant=${seeded.tenant.slug}&login_hint=newcomer%40example.com`);

    idp.addUser({ sub: 'newcomer-sub', email: 'newcomer@example.com' });
    idp.setNextLogin('newcomer-sub');
    const started = await start(t, Object.fromEntries(new URL(redirect, t.publicUrl).searchParams));
    assert.equal(started.location.searchParams.get('login_hint'), 'newcomer@example.com');
    const done = await finish(t, await throughIdp(t, started.location), started.binding);
    const me = await assertSignedIn(t, done, 'newcomer@example.com');
    assert.deepEqual([me.user.firstName, me.user.lastName, me.user.role], ['New', 'Comer', 'member']);
    const row = await t.ctx.db.one<{ sso_subject: string; password_hash: string | null }>('SELECT sso_subject, password_hash FROM users WHERE id = $1', [
      me.user.id,
    ]);
    assert.deepEqual({ ...row }, { sso_subject: 'newcomer-sub', password_hash: null });
  });

  test('the break-glass turns Enforce SSO off and password login works again', async () => {
    assert.equal(await disableEnforcement(t.ctx.db, seeded.tenant.id, t.clock.now()), true);
    const allowed = await t.inject({ method: 'POST', url: '/api/auth/password', payload: { email: seeded.admin.email, password: PASSWORD } });
    assert.equal(allowed.statusCode, 200);
    const config = (await t.inject({ method: 'GET', url: '/api/integrations/sso', token: seeded.admin.token })).json().config;
    assert.equal(config.enforce, false);
  });
});

describe('several instances on one database', () => {
  test('a sign-in started on one instance completes on another, and its state is then spent on both', async (context) => {
    const first = await getTestInstance();
    const second = await getTestInstance({ database: first.database, clock: first.clock });
    context.after(async () => {
      await second.close();
      await first.close();
    });
    const seeded = await first.seedTenant();
    const idp = await startProvider({
      profile: 'auth0',
      clients: [{ client_id: 'shared', client_secret: 'shared-secret-value', redirect_uris: [redirectUriOf(first)] }],
      users: [{ sub: 'roamer', email: seeded.admin.email }],
    });
    context.after(() => idp.close());
    await configure(first, seeded.admin.token, { issuer: idp.typedIssuer, clientId: 'shared', clientSecret: 'shared-secret-value' });
    idp.setNextLogin('roamer');

    const done = await signIn(first, seeded.tenant.slug, { callbackOn: second });
    await assertSignedIn(second, done, seeded.admin.email);
    await assertSignedIn(first, done, seeded.admin.email);
    const replayed = await finish(first, done.callbackUrl, done.started.binding);
    await assertRefused(first, replayed, 'sso_state_invalid');
  });
});

describe('housekeeping on the way', () => {
  const DAY_MS = 24 * 60 * 60 * 1000;
  let t: TestInstance;
  let seeded: Seeded;
  before(async () => {
    t = await getTestInstance();
    seeded = await t.seedTenant();
  });
  after(() => t.close());

  const count = async (sql: string) => Number((await t.ctx.db.one<{ n: number | string }>(sql, [seeded.tenant.id]))!.n);

  test('attempts older than 30 days are pruned as new ones are recorded, at most hourly per tenant', async () => {
    const old = (id: string) =>
      t.ctx.db.run('INSERT INTO sso_attempts (id, tenant_id, at, email, result, ref) VALUES ($1, $2, $3, NULL, $4, $5)', [
        id,
        seeded.tenant.id,
        t.clock.now() - 31 * DAY_MS,
        'sso_state_invalid',
        id,
      ]);
    const oldAttempts = () => count(`SELECT count(*) AS n FROM sso_attempts WHERE tenant_id = $1 AND ref LIKE 'old-%'`);
    const record = (ref: string) => recordAttempt(t.ctx, seeded.tenant.id, { email: null, result: 'sso_state_invalid', ref });
    await old('old-1');
    await record('new-1');
    assert.equal(await oldAttempts(), 0);
    await old('old-2');
    await record('new-2');
    assert.equal(await oldAttempts(), 1, 'within the hour, no second pruning');
    t.clock.advance(61 * 60 * 1000);
    await record('new-3');
    assert.equal(await oldAttempts(), 0);
    assert.equal(await count(`SELECT count(*) AS n FROM sso_attempts WHERE tenant_id = $1 AND ref LIKE 'new-%'`), 3);
  });

  test('expired states are cleared as new ones are issued, at most every minute', async () => {
    const pending = { tenantId: seeded.tenant.id, issuer: 'https://idp.example', codeVerifier: 'v'.repeat(43), nonce: 'n', returnTo: null };
    const issue = () => issueState(t.ctx, pending, bindingFor(undefined));
    const expired = () => count(`SELECT count(*) AS n FROM sso_states WHERE tenant_id = $1 AND expires_at < ${t.clock.now()}`);
    const states = () => count('SELECT count(*) AS n FROM sso_states WHERE tenant_id = $1');
    await issue();
    t.clock.advance(STATE_TTL_MS + 1);
    await issue();
    assert.deepEqual([await expired(), await states()], [0, 1]);
    await t.ctx.db.run(
      `INSERT INTO sso_states (id, tenant_id, issuer, binding_hash, code_verifier_enc, nonce, return_to, expires_at)
       VALUES ('expired', $1, 'https://idp.example', 'x', 'x', 'n', NULL, $2)`,
      [seeded.tenant.id, t.clock.now() - 1],
    );
    t.clock.advance(30 * 1000);
    await issue();
    assert.equal(await expired(), 1, 'within the minute, no second clearing');
    t.clock.advance(31 * 1000);
    await issue();
    assert.deepEqual([await expired(), await states()], [0, 3]);
  });
});
