import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { HostileIdp } from '../../test/idp/hostile.ts';
import { freePort, getTestInstance, PASSWORD, type Seeded, type TestInstance } from '../../test/instance.ts';
import { configure, hostileIdp, putSso, realIdp, signIn } from '../../test/sso-driver.ts';
import { secretContext } from './config.ts';

/** A loopback server that answers discovery with whatever the test says, or never. */
async function stubDiscovery(answer: (issuer: string) => { status: number; body: string } | 'hang') {
  const server: Server = createServer((_req, res) => {
    const found = answer(issuer);
    if (found === 'hang') return;
    res.writeHead(found.status, { 'content-type': 'application/json' }).end(found.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('SSO configuration API', () => {
  let t: TestInstance;
  let seeded: Seeded;
  let idp: HostileIdp;
  const admin = () => seeded.admin.token;
  const valid = () => ({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret });

  before(async () => {
    t = await getTestInstance({ env: { SSO_TIMEOUT_MS: '1000' } });
    seeded = await t.seedTenant();
    idp = await hostileIdp({ user: { sub: 'sub-admin', email: seeded.admin.email } });
  });
  after(async () => {
    await idp.close();
    await t.close();
  });

  test('GET answers the redirect URI and no configuration before one is saved', async () => {
    const response = await t.inject({ method: 'GET', url: '/api/integrations/sso', token: admin() });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { redirectUri: 'http://localhost:3000/auth/sso/callback', config: null });
  });

  test('an issuer typed with spaces and /.well-known/openid-configuration is normalised, discovered and saved with defaults', async () => {
    const okta = await realIdp(t, { profile: 'okta' });
    try {
      const typed = `  ${okta.issuer}/.well-known/openid-configuration `;
      const saved = await configure(t, admin(), { name: 'Okta', issuer: typed, clientId: okta.clientId, clientSecret: okta.clientSecret! });
      assert.equal(saved.issuerNormalized, okta.issuer);
      assert.deepEqual(saved.config, {
        name: 'Okta',
        issuer: okta.issuer,
        clientId: okta.clientId,
        hasClientSecret: true,
        scopes: 'openid profile email',
        claims: { email: 'email', firstName: 'given_name', lastName: 'family_name' },
        enforce: false,
        verified: false,
        updatedAt: new Date(t.clock.now()).toISOString(),
      });
      assert.deepEqual(
        saved.warnings.map((warning) => warning.code),
        ['insecure_issuer'],
      );
      const got = await t.inject({ method: 'GET', url: '/api/integrations/sso', token: admin() });
      assert.deepEqual(got.json().config, saved.config);
      const row = await t.ctx.db.one<{ discovered_issuer: string; metadata: string }>(
        'SELECT discovered_issuer, metadata FROM sso_configs WHERE tenant_id = $1',
        [seeded.tenant.id],
      );
      assert.equal(row?.discovered_issuer, okta.issuer);
      assert.equal(JSON.parse(row!.metadata).token_endpoint, `${okta.issuer}/token`);
    } finally {
      await okta.close();
    }
  });

  test('an Auth0-like issuer typed without its trailing slash is kept as typed and discovered with the slash', async () => {
    const auth0 = await realIdp(t, { profile: 'auth0' });
    try {
      assert.ok(auth0.issuer.endsWith('/'));
      const saved = await configure(t, admin(), { issuer: auth0.typedIssuer, clientId: auth0.clientId, clientSecret: auth0.clientSecret! });
      assert.equal(saved.issuerNormalized, undefined, 'nothing was normalised');
      assert.equal(saved.config.issuer, auth0.typedIssuer);
      const row = await t.ctx.db.one<{ discovered_issuer: string }>('SELECT discovered_issuer FROM sso_configs WHERE tenant_id = $1', [seeded.tenant.id]);
      assert.equal(row?.discovered_issuer, auth0.issuer);
    } finally {
      await auth0.close();
    }
  });

  test('an issuer that is not an http(s) URL is refused with issuer_invalid', async () => {
    for (const issuer of ['not a url', 'ftp://idp.example.com', 'https://idp.example.com/?tenant=1', 'https://user:pw@idp.example.com', 'https://idp.example.com/#x']) {
      const response = await putSso(t, admin(), { issuer, clientId: 'c' });
      assert.equal(response.statusCode, 400, issuer);
      assert.equal(response.json().error, 'issuer_invalid', issuer);
    }
  });

  test('an unreachable issuer, an HTTP error and a non-JSON answer are refused with discovery_failed', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const notFound = await stubDiscovery(() => ({ status: 404, body: '{}' }));
    const notJson = await stubDiscovery(() => ({ status: 200, body: '<html>' }));
    try {
      for (const issuer of [closed, notFound.issuer, notJson.issuer]) {
        const response = await putSso(t, admin(), { issuer, clientId: 'c' });
        assert.equal(response.statusCode, 400, issuer);
        assert.equal(response.json().error, 'discovery_failed', issuer);
      }
    } finally {
      await notFound.close();
      await notJson.close();
    }
  });

  test('an issuer whose discovery hangs is refused with discovery_failed within the timeout', async () => {
    const hanging = await stubDiscovery(() => 'hang');
    try {
      const began = Date.now();
      const response = await putSso(t, admin(), { issuer: hanging.issuer, clientId: 'c' });
      assert.equal(response.json().error, 'discovery_failed');
      assert.ok(Date.now() - began < 4_000, `took ${Date.now() - began} ms`);
    } finally {
      await hanging.close();
    }
  });

  test('an IdP reporting another issuer is refused with discovery_issuer_mismatch, naming both', async () => {
    const okta = await realIdp(t, { profile: 'okta' });
    try {
      const typed = okta.issuer.replace('127.0.0.1', 'localhost');
      const response = await putSso(t, admin(), { issuer: typed, clientId: okta.clientId });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().error, 'discovery_issuer_mismatch');
      assert.equal(response.json().expected, typed);
      assert.equal(response.json().reported, okta.issuer);
    } finally {
      await okta.close();
    }
  });

  test('a discovery document without jwks_uri or the code response type is refused with discovery_incomplete', async () => {
    idp.metadataOverrides = { jwks_uri: undefined, response_types_supported: ['id_token'] };
    try {
      const response = await putSso(t, admin(), valid());
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().error, 'discovery_incomplete');
      assert.deepEqual(response.json().missing, ['jwks_uri', 'response_types_supported']);
    } finally {
      idp.metadataOverrides = {};
    }
  });

  test('scopes without openid are refused with scopes_missing_openid', async () => {
    const response = await putSso(t, admin(), { ...valid(), scopes: 'profile email' });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error, 'scopes_missing_openid');
  });

  test('scopes without email and an IdP without S256 PKCE are saved with warnings', async () => {
    idp.metadataOverrides = { code_challenge_methods_supported: ['plain'] };
    try {
      const saved = await configure(t, admin(), { ...valid(), scopes: 'openid profile' });
      assert.deepEqual(saved.warnings.map((warning) => warning.code).sort(), ['insecure_issuer', 'no_pkce_s256', 'scopes_without_email']);
      assert.equal(saved.config.scopes, 'openid profile');
    } finally {
      idp.metadataOverrides = {};
    }
  });

  test('unknown fields, wrong types and over-long values are refused with invalid_body', async () => {
    const bodies = [
      { ...valid(), name: 'x', extra: true },
      { ...valid(), name: 'x', enforce: 'yes' },
      { ...valid(), name: 'x'.repeat(101) },
      { ...valid(), name: 'x', claims: { email: 'has space' } },
      { ...valid(), name: 'x', claims: { email: 'email', other: 'x' } },
      { ...valid(), name: 'x', clientSecret: 's'.repeat(4097) },
      { ...valid(), name: '   ' },
      { issuer: idp.issuer, clientId: 'c' },
    ];
    for (const payload of bodies) {
      const response = await t.inject({ method: 'PUT', url: '/api/integrations/sso', token: admin(), payload });
      assert.equal(response.statusCode, 400, JSON.stringify(payload).slice(0, 80));
      assert.equal(response.json().error, 'invalid_body');
    }
  });

  test('the client secret is sealed with its key version, answered only as hasClientSecret, kept when left blank and removed with null', async () => {
    const secretRow = async () =>
      (await t.ctx.db.one<{ client_secret_enc: string | null }>('SELECT client_secret_enc FROM sso_configs WHERE tenant_id = $1', [seeded.tenant.id]))!
        .client_secret_enc;

    const saved = await putSso(t, admin(), valid());
    assert.equal(saved.json().config.hasClientSecret, true);
    assert.ok(!saved.body.includes(idp.clientSecret));
    const sealed = (await secretRow()) ?? '';
    assert.ok(sealed.startsWith('v1.'), 'the key version leads the ciphertext');
    assert.ok(!sealed.includes(idp.clientSecret));
    assert.equal(await t.ctx.sealer.open(sealed, secretContext(seeded.tenant.id)), idp.clientSecret);
    // Sealed for this tenant only: another tenant's context does not open it.
    await assert.rejects(t.ctx.sealer.open(sealed, secretContext('another-tenant')));

    await configure(t, admin(), { ...valid(), clientSecret: '' });
    assert.equal(await secretRow(), sealed, 'blank keeps the secret');
    const { clientSecret: _, ...withoutSecret } = valid();
    await configure(t, admin(), withoutSecret);
    assert.equal(await secretRow(), sealed, 'omitted keeps the secret');
    // The kept secret still works at the IdP.
    await t.seedUser(seeded.tenant.id, { email: 'keeper@example.com' });
    idp.setScenario('ok', { sub: 'keeper', email: 'keeper@example.com' });
    assert.equal((await signIn(t, seeded.tenant.slug)).error, null);

    const removed = await configure(t, admin(), { ...valid(), clientSecret: null });
    assert.equal(removed.config.hasClientSecret, false);
    assert.equal(await secretRow(), null);
  });

  test('with a secret the token endpoint gets client_secret_basic, or client_secret_post when discovery offers only that', async () => {
    await t.seedUser(seeded.tenant.id, { email: 'method@example.com' });
    idp.setScenario('ok', { sub: 'method', email: 'method@example.com' });
    await configure(t, admin(), valid());
    assert.equal((await signIn(t, seeded.tenant.slug)).error, null);
    assert.equal(idp.tokenAuthMethods.at(-1), 'client_secret_basic');

    idp.metadataOverrides = { token_endpoint_auth_methods_supported: ['client_secret_post'] };
    try {
      await configure(t, admin(), valid());
      assert.equal((await signIn(t, seeded.tenant.slug)).error, null);
      assert.equal(idp.tokenAuthMethods.at(-1), 'client_secret_post');
    } finally {
      idp.metadataOverrides = {};
    }
  });

  test('Enforce SSO is refused with enforce_requires_verified_sso until an admin has signed in, and nothing else of that save applies', async () => {
    await configure(t, admin(), { ...valid(), name: 'Before' });
    const refused = await putSso(t, admin(), { ...valid(), name: 'After', enforce: true });
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error, 'enforce_requires_verified_sso');
    const got = (await t.inject({ method: 'GET', url: '/api/integrations/sso', token: admin() })).json().config;
    assert.equal(got.name, 'Before');
    assert.equal(got.enforce, false);
  });

  test('an admin SSO sign-in verifies the configuration; re-saving keeps it; changing the issuer or client ID clears it', async () => {
    const verified = async () => (await t.inject({ method: 'GET', url: '/api/integrations/sso', token: admin() })).json().config.verified as boolean;
    await configure(t, admin(), valid());
    idp.setScenario('ok', { sub: 'sub-admin', email: seeded.admin.email });
    assert.equal((await signIn(t, seeded.tenant.slug)).error, null);
    assert.equal(await verified(), true);

    const enforced = await configure(t, admin(), { ...valid(), name: 'Renamed', enforce: true });
    assert.equal(enforced.config.enforce, true);
    assert.equal(enforced.config.verified, true);
    // Turning it off is always allowed.
    assert.equal((await configure(t, admin(), valid())).config.enforce, false);

    const other = await hostileIdp({ clientId: idp.clientId });
    try {
      await configure(t, admin(), { issuer: other.issuer, clientId: idp.clientId, clientSecret: other.clientSecret });
      assert.equal(await verified(), false, 'another issuer is not verified');
    } finally {
      await other.close();
    }
    await configure(t, admin(), valid());
    assert.equal((await signIn(t, seeded.tenant.slug)).error, null);
    assert.equal(await verified(), true);
    await configure(t, admin(), { ...valid(), clientId: 'another-client' });
    assert.equal(await verified(), false, 'another client ID is not verified');
    const refused = await putSso(t, admin(), { ...valid(), enforce: true });
    assert.equal(refused.json().error, 'enforce_requires_verified_sso');
  });

  test('DELETE removes the configuration: SSO start answers sso_not_configured', async () => {
    await configure(t, admin(), valid());
    const deleted = await t.inject({ method: 'DELETE', url: '/api/integrations/sso', token: admin() });
    assert.equal(deleted.statusCode, 204);
    assert.equal((await t.inject({ method: 'GET', url: '/api/integrations/sso', token: admin() })).json().config, null);
    const started = await t.inject({ method: 'GET', url: `/auth/sso/start?tenant=${seeded.tenant.slug}` });
    assert.match(started.headers.location as string, /^\/login\?sso_error=sso_not_configured&ref=/);
  });

  test('only admins of the tenant manage SSO: members and bots get 403, strangers 401', async () => {
    await t.seedUser(seeded.tenant.id, { email: 'member@example.com' });
    const memberToken = await t.login('member@example.com', PASSWORD, seeded.tenant.slug);
    const bot = await t.inject({ method: 'POST', url: '/api/bots', token: admin(), payload: { name: 'ci' } });
    const botToken = bot.json().token as string;
    const routes = [
      { method: 'GET', url: '/api/integrations/sso' },
      // An empty body: who may ask is decided before what was asked.
      { method: 'PUT', url: '/api/integrations/sso', payload: {} },
      { method: 'DELETE', url: '/api/integrations/sso' },
      { method: 'GET', url: '/api/integrations/sso/attempts' },
    ] as const;
    for (const route of routes) {
      assert.equal((await t.inject({ ...route, token: memberToken })).json().error, 'admin_required', `${route.method} ${route.url}`);
      assert.equal((await t.inject({ ...route, token: botToken })).json().error, 'forbidden', `${route.method} ${route.url}`);
      assert.equal((await t.inject({ ...route })).statusCode, 401, `${route.method} ${route.url}`);
    }
  });
});
