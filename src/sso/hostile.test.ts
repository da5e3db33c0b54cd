import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { DEFAULT_HOSTILE_USER, type HostileIdp, type HostileScenario } from '../../test/idp/hostile.ts';
import { getTestInstance, type Seeded, type TestInstance } from '../../test/instance.ts';
import { assertRefused, assertSignedIn, configure, finish, hostileIdp, signIn, start, throughIdp } from '../../test/sso-driver.ts';
import { addSigningKey } from '../keys/signing-keys.ts';
import { STATE_TTL_MS } from './state.ts';

/** Short, so that the hanging scenarios stay quick; production uses 10 s. */
const TIMEOUT_MS = 2_000;

describe('a hostile IdP cannot sign anyone in', () => {
  let t: TestInstance;
  let idp: HostileIdp;
  let seeded: Seeded;

  /** A tenant of its own on the hostile IdP: its own, cold, JWKS cache. */
  async function tenantOnIdp(): Promise<Seeded> {
    const fresh = await t.seedTenant();
    await t.seedUser(fresh.tenant.id, { email: DEFAULT_HOSTILE_USER.email });
    await configure(t, fresh.admin.token, { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret });
    return fresh;
  }

  before(async () => {
    t = await getTestInstance({ env: { SSO_TIMEOUT_MS: String(TIMEOUT_MS) } });
    idp = await hostileIdp();
    seeded = await tenantOnIdp();
    // Warm up: the tenant holds the IdP's keys before the scenarios run.
    await assertSignedIn(t, await signIn(t, seeded.tenant.slug), DEFAULT_HOSTILE_USER.email);
  });
  after(async () => {
    await idp.close();
    await t.close();
  });
  beforeEach(() => {
    idp.setScenario('ok', DEFAULT_HOSTILE_USER);
    idp.customClaims = {};
  });

  const refusals: [HostileScenario, string, string][] = [
    ['wrong_iss', 'sso_token_invalid', 'an ID token from another issuer'],
    ['wrong_aud', 'sso_token_invalid', 'an ID token for another client'],
    ['bad_signature', 'sso_token_invalid', 'an ID token whose signature does not verify against the JWKS'],
    ['alg_none', 'sso_token_invalid', 'a token signed with alg none'],
    ['expired', 'sso_token_invalid', 'an expired ID token'],
    ['no_iat', 'sso_token_invalid', 'an ID token without iat'],
    ['nonce_mismatch', 'sso_token_invalid', 'an ID token with another nonce'],
    ['multiple_aud_no_azp', 'sso_token_invalid', 'an ID token for several audiences without azp'],
    ['azp_wrong', 'sso_token_invalid', 'an ID token whose azp is another client'],
    ['token_invalid_grant', 'sso_idp_rejected', 'a code exchange refused with invalid_grant'],
    ['token_invalid_client', 'sso_idp_rejected', 'a code exchange refused with invalid_client'],
    ['token_http_500', 'sso_idp_rejected', 'a token endpoint answering HTTP 500'],
    ['no_email', 'sso_no_email_claim', 'no email in the ID token or UserInfo'],
    ['email_verified_false', 'sso_email_unverified', 'email_verified false'],
    ['email_verified_false_string', 'sso_email_unverified', 'email_verified "false" as a string'],
    ['userinfo_sub_mismatch', 'sso_token_invalid', 'a UserInfo answer about another sub'],
    ['iss_param_mismatch', 'sso_token_invalid', 'an authorization response whose iss parameter names another issuer'],
    ['access_denied', 'sso_access_denied', 'an IdP error=access_denied'],
  ];
  for (const [scenario, code, title] of refusals) {
    test(`${title} is refused with ${code} and no session is created`, async () => {
      idp.setScenario(scenario);
      const done = await signIn(t, seeded.tenant.slug);
      await assertRefused(t, done, code);
      const attempts = (await t.inject({ method: 'GET', url: '/api/integrations/sso/attempts', token: seeded.admin.token })).json().attempts;
      assert.deepEqual({ result: attempts[0].result, ref: attempts[0].ref }, { result: code, ref: done.ref });
    });
  }

  test('the email comes from UserInfo when the ID token has none', async () => {
    idp.setScenario('email_only_in_userinfo');
    await assertSignedIn(t, await signIn(t, seeded.tenant.slug), DEFAULT_HOSTILE_USER.email);
    assert.equal(idp.requests.at(-1), '/userinfo');
  });

  test('a token endpoint that hangs fails the sign-in with sso_idp_rejected within the timeout', async () => {
    idp.setScenario('token_hang');
    const began = Date.now();
    const done = await signIn(t, seeded.tenant.slug);
    assert.ok(Date.now() - began < TIMEOUT_MS + 3_000, `took ${Date.now() - began} ms`);
    await assertRefused(t, done, 'sso_idp_rejected');
  });

  test('a JWKS endpoint that hangs fails the sign-in with sso_discovery_failed within the timeout', async () => {
    const cold = await tenantOnIdp();
    idp.setScenario('jwks_hang');
    const began = Date.now();
    const done = await signIn(t, cold.tenant.slug);
    assert.ok(Date.now() - began < TIMEOUT_MS + 3_000, `took ${Date.now() - began} ms`);
    await assertRefused(t, done, 'sso_discovery_failed');
  });

  test('the JWKS is cached between sign-ins, and refetched once when the IdP signs with a new key', async () => {
    const jwksFetches = () => idp.requests.filter((path) => path === '/jwks').length;
    const fetched = jwksFetches();
    await assertSignedIn(t, await signIn(t, seeded.tenant.slug), DEFAULT_HOSTILE_USER.email);
    assert.equal(jwksFetches(), fetched, 'a known key needs no fetch');

    idp.setScenario('rotate_key');
    await assertSignedIn(t, await signIn(t, seeded.tenant.slug), DEFAULT_HOSTILE_USER.email);
    assert.equal(jwksFetches(), fetched + 1, 'the new kid made us fetch the JWKS once');
    await assertSignedIn(t, await signIn(t, seeded.tenant.slug), DEFAULT_HOSTILE_USER.email);
    assert.equal(jwksFetches(), fetched + 1, 'the new key is cached');
  });

  test('a re-saved client secret is used from the next sign-in on, and the IdP keys already fetched are kept', async () => {
    const fresh = await tenantOnIdp();
    const settings = { issuer: idp.issuer, clientId: idp.clientId };
    await assertSignedIn(t, await signIn(t, fresh.tenant.slug), DEFAULT_HOSTILE_USER.email);
    await configure(t, fresh.admin.token, { ...settings, clientSecret: 'not-the-secret' });
    await assertRefused(t, await signIn(t, fresh.tenant.slug), 'sso_idp_rejected');
    const jwksFetches = idp.requests.filter((path) => path === '/jwks').length;
    await configure(t, fresh.admin.token, { ...settings, clientSecret: idp.clientSecret });
    await assertSignedIn(t, await signIn(t, fresh.tenant.slug), DEFAULT_HOSTILE_USER.email);
    assert.equal(idp.requests.filter((path) => path === '/jwks').length, jwksFetches);
  });

  test('discovery is cached, refetched when an hour old, and a failing refetch refuses sso_discovery_failed', async () => {
    const discoveries = () => idp.requests.filter((path) => path === '/.well-known/openid-configuration').length;
    const age = (ms: number) =>
      t.ctx.db.run('UPDATE sso_configs SET metadata_fetched_at = $1 WHERE tenant_id = $2', [t.clock.now() - ms, seeded.tenant.id]);
    const fetched = discoveries();
    await assertSignedIn(t, await signIn(t, seeded.tenant.slug), DEFAULT_HOSTILE_USER.email);
    assert.equal(discoveries(), fetched, 'fresh metadata needs no fetch');

    await age(61 * 60 * 1000);
    await assertSignedIn(t, await signIn(t, seeded.tenant.slug), DEFAULT_HOSTILE_USER.email);
    assert.equal(discoveries(), fetched + 1);
    const row = await t.ctx.db.one<{ metadata_fetched_at: number }>('SELECT metadata_fetched_at FROM sso_configs WHERE tenant_id = $1', [seeded.tenant.id]);
    assert.equal(row?.metadata_fetched_at, t.clock.now());

    await age(61 * 60 * 1000);
    idp.setScenario('discovery_hang');
    await assertRefused(t, await start(t, { tenant: seeded.tenant.slug }), 'sso_discovery_failed');
  });
});

describe('the state parameter', () => {
  let t: TestInstance;
  let idp: HostileIdp;
  let seeded: Seeded;

  before(async () => {
    t = await getTestInstance();
    idp = await hostileIdp();
    seeded = await t.seedTenant();
    await t.seedUser(seeded.tenant.id, { email: DEFAULT_HOSTILE_USER.email });
    await configure(t, seeded.admin.token, { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret });
  });
  after(async () => {
    await idp.close();
    await t.close();
  });

  /** Starts a sign-in and takes it through the IdP, stopping before the callback. */
  async function pending() {
    const started = await start(t, { tenant: seeded.tenant.slug });
    return { binding: started.binding, callbackUrl: await throughIdp(t, started.location) };
  }

  test('a tampered state is refused with sso_state_invalid', async () => {
    const { binding, callbackUrl } = await pending();
    const [header, payload, signature] = callbackUrl.searchParams.get('state')!.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, idp: 'http://127.0.0.1:1' })).toString('base64url');
    const flipped = signature.slice(0, -2) + (signature.endsWith('AA') ? 'BB' : 'AA');
    for (const state of [`${header}.${forgedPayload}.${signature}`, `${header}.${payload}.${flipped}`, 'not-a-state']) {
      const url = new URL(callbackUrl);
      url.searchParams.set('state', state);
      await assertRefused(t, await finish(t, url, binding), 'sso_state_invalid');
    }
    const url = new URL(callbackUrl);
    url.searchParams.delete('state');
    await assertRefused(t, await finish(t, url, binding), 'sso_state_invalid');
  });

  test('a replayed callback is refused with sso_state_invalid: the state is single-use', async () => {
    const { binding, callbackUrl } = await pending();
    await assertSignedIn(t, await finish(t, callbackUrl, binding), DEFAULT_HOSTILE_USER.email);
    await assertRefused(t, await finish(t, callbackUrl, binding), 'sso_state_invalid');
  });

  test('a callback presented from another browser is refused with sso_state_invalid', async () => {
    const victim = await pending();
    const attacker = await start(t, { tenant: seeded.tenant.slug });
    await assertRefused(t, await finish(t, victim.callbackUrl, undefined), 'sso_state_invalid');
    const again = await pending();
    await assertRefused(t, await finish(t, again.callbackUrl, attacker.binding), 'sso_state_invalid');
  });

  test('a browser keeps its binding across sign-ins started in two tabs, and both complete', async () => {
    const first = await start(t, { tenant: seeded.tenant.slug });
    const second = await start(t, { tenant: seeded.tenant.slug }, first.binding);
    assert.equal(second.binding, first.binding);
    const firstBack = await throughIdp(t, first.location);
    const secondBack = await throughIdp(t, second.location);
    await assertSignedIn(t, await finish(t, secondBack, second.binding), DEFAULT_HOSTILE_USER.email);
    await assertSignedIn(t, await finish(t, firstBack, first.binding), DEFAULT_HOSTILE_USER.email);
  });

  test('a state issued for one issuer is refused when the tenant switched IdP before the callback', async () => {
    const { binding, callbackUrl } = await pending();
    const other = await hostileIdp({ clientId: idp.clientId });
    try {
      await configure(t, seeded.admin.token, { issuer: other.issuer, clientId: other.clientId, clientSecret: other.clientSecret });
      await assertRefused(t, await finish(t, callbackUrl, binding), 'sso_state_invalid');
    } finally {
      await other.close();
      await configure(t, seeded.admin.token, { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret });
    }
  });

  test('the callback clears the binding cookie', async () => {
    const { binding, callbackUrl } = await pending();
    const done = await finish(t, callbackUrl, binding);
    const cleared = done.response.cookies.find((cookie) => cookie.name === 'jams_sso_binding');
    assert.equal(cleared?.value, '');
    assert.equal(cleared?.path, '/auth/sso');
  });
  test('only a MAC under the state key makes a state: our EdDSA signature, another use\'s MAC or no MAC is refused', async () => {
    const { binding, callbackUrl } = await pending();
    const payload = callbackUrl.searchParams.get('state')!.split('.')[1]!;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const other = await t.ctx.keys.macKey('another purpose');
    const header = encode({ alg: 'HS256', kid: other.kid });
    const forged = [
      (await t.ctx.keys.sign(claims, t.clock.now() + 60_000)).token,
      `${header}.${payload}.${createHmac('sha256', other.key).update(`${header}.${payload}`).digest('base64url')}`,
      `${encode({ alg: 'none', kid: other.kid })}.${payload}.`,
    ];
    for (const state of forged) {
      const url = new URL(callbackUrl);
      url.searchParams.set('state', state);
      await assertRefused(t, await finish(t, url, binding), 'sso_state_invalid');
    }
    // Refused before the row was touched: the forgeries did not spend the genuine state.
    await assertSignedIn(t, await finish(t, callbackUrl, binding), DEFAULT_HOSTILE_USER.email);
  });

  test('a sign-in started before the signing key rotates completes after it', async () => {
    const kidOf = (url: URL) => JSON.parse(Buffer.from(url.searchParams.get('state')!.split('.')[0]!, 'base64url').toString()).kid;
    const before = await pending();
    await addSigningKey(t.ctx.db, t.ctx.sealer, t.clock.now() + 1);
    await t.ctx.keys.reload();
    const after = await pending();
    assert.notEqual(kidOf(after.callbackUrl), kidOf(before.callbackUrl));
    await assertSignedIn(t, await finish(t, before.callbackUrl, before.binding), DEFAULT_HOSTILE_USER.email);
    await assertSignedIn(t, await finish(t, after.callbackUrl, after.binding), DEFAULT_HOSTILE_USER.email);
  });

  // These two move the clock, which decides ID-token expiry too: they come last.
  test('a callback just inside 5 minutes still signs in', async () => {
    const { binding, callbackUrl } = await pending();
    t.clock.advance(STATE_TTL_MS - 5_000);
    await assertSignedIn(t, await finish(t, callbackUrl, binding), DEFAULT_HOSTILE_USER.email);
  });

  test('a callback after 5 minutes is refused with sso_state_invalid', async () => {
    const { binding, callbackUrl } = await pending();
    t.clock.advance(STATE_TTL_MS + 1_000);
    await assertRefused(t, await finish(t, callbackUrl, binding), 'sso_state_invalid');
  });
});
