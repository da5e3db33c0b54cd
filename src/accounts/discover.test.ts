import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getTestInstance, type Seeded, type TestInstance } from '../../test/instance.ts';
import { seedSsoConfig } from '../../test/sso-rows.ts';

interface SsoOption {
  tenant: { slug: string; name: string };
  name: string;
  startUrl: string;
}

describe('sign-in discovery: POST /api/auth/discover (SPEC 2)', () => {
  let t: TestInstance;
  let plain: Seeded;
  let okta: Seeded;
  let entra: Seeded;
  before(async () => {
    t = await getTestInstance();
    plain = await t.seedTenant({ name: 'Plain Co' });
    okta = await t.seedTenant({ name: 'Okta Co' });
    entra = await t.seedTenant({ name: 'Entra Co' });
    await seedSsoConfig(t.ctx.db, okta.tenant.id, { name: 'Okta' });
    await seedSsoConfig(t.ctx.db, entra.tenant.id, { name: 'Entra ID', enforce: true });
    for (const tenant of [plain, okta, entra]) await t.seedUser(tenant.tenant.id, { email: 'kevin.casey@example.com', password: null });
    await t.seedUser(plain.tenant.id, { email: 'password-only@example.com', password: null });
    await t.seedUser(entra.tenant.id, { email: 'sso-only@example.com', password: null });
    await t.seedUser(okta.tenant.id, { email: 'optional-sso@example.com', password: null });
  });
  after(() => t.close());

  async function discover(email: unknown) {
    const response = await t.inject({ method: 'POST', url: '/api/auth/discover', payload: { email } });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.cookies.length, 0, 'discovery signs nobody in');
    return response.json() as { password: boolean; sso: SsoOption[] };
  }

  const option = (seeded: Seeded, name: string) => ({ tenant: { slug: seeded.tenant.slug, name: seeded.tenant.name }, name });
  const withoutUrls = (options: SsoOption[]) =>
    options.map(({ tenant, name }) => ({ tenant, name })).sort((a, b) => a.tenant.slug.localeCompare(b.tenant.slug));

  test('an unknown email gets exactly the answer of a password-only user', async () => {
    const passwordOnly = await discover('password-only@example.com');
    assert.deepEqual(passwordOnly, { password: true, sso: [] });
    assert.deepEqual(await discover('nobody@example.com'), passwordOnly);
  });

  test('a member of several tenants gets one SSO option per SSO tenant, and password while one tenant takes it', async () => {
    const answer = await discover('kevin.casey@example.com');
    assert.equal(answer.password, true);
    assert.deepEqual(
      withoutUrls(answer.sso),
      [option(okta, 'Okta'), option(entra, 'Entra ID')].sort((a, b) => a.tenant.slug.localeCompare(b.tenant.slug)),
    );
    for (const sso of answer.sso) {
      const url = new URL(sso.startUrl, 'http://localhost');
      assert.equal(url.pathname, '/auth/sso/start');
      assert.equal(url.searchParams.get('tenant'), sso.tenant.slug);
      assert.ok(sso.startUrl.startsWith('/'), 'a same-origin path');
    }
  });

  test('password is false when every tenant of the email enforces SSO', async () => {
    const answer = await discover('sso-only@example.com');
    assert.equal(answer.password, false);
    assert.deepEqual(withoutUrls(answer.sso), [option(entra, 'Entra ID')]);
  });

  test('SSO that is not enforced is offered beside the password', async () => {
    const answer = await discover('optional-sso@example.com');
    assert.equal(answer.password, true);
    assert.deepEqual(withoutUrls(answer.sso), [option(okta, 'Okta')]);
  });

  test('discovery matches emails case-insensitively with whitespace trimmed, and an alias or other domain is no match', async () => {
    const exact = await discover('kevin.casey@example.com');
    assert.deepEqual(withoutUrls((await discover('  Kevin.Casey@Example.COM ')).sso), withoutUrls(exact.sso));
    const unknown = await discover('nobody@example.com');
    for (const email of ['kevin.casey+sso@example.com', 'kevin.casey@example.org', 'kevin.case@example.com']) {
      assert.deepEqual(await discover(email), unknown, email);
    }
  });

  test('a body without an email is refused with invalid_body', async () => {
    const response = await t.inject({ method: 'POST', url: '/api/auth/discover', payload: {} });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error, 'invalid_body');
  });
});
