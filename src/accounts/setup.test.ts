import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { getTestInstance, type TestInstance } from '../../test/instance.ts';
import { SESSION_COOKIE } from '../http/auth.ts';
import { createSetupLink, SETUP_TTL_MS } from './setup.ts';

const PASSWORD = 'the first admin passphrase';

async function instance(t: TestContext): Promise<TestInstance> {
  const created = await getTestInstance();
  t.after(() => created.close());
  return created;
}

/** The token rides in the URL fragment. */
async function setupToken(t: TestInstance): Promise<string> {
  const link = await createSetupLink(t.ctx);
  assert.ok(link, 'a setup link is made');
  const url = new URL(link);
  assert.equal(`${url.origin}${url.pathname}`, `${t.publicUrl}/setup`);
  assert.equal(url.search, '', 'the token is not in the query, which servers log');
  return url.hash.slice(1);
}

const setup = (t: TestInstance, token: string, overrides: Record<string, string> = {}) =>
  t.inject({
    method: 'POST',
    url: '/api/setup',
    payload: {
      token,
      tenantName: 'First Co',
      tenantSlug: 'first-co',
      email: 'Founder@First.test',
      firstName: 'Fay',
      lastName: 'Founder',
      password: PASSWORD,
      ...overrides,
    },
  });

const tenantCount = async (t: TestInstance) => (await t.ctx.db.all('SELECT id FROM tenants')).length;

describe('first run (SPEC 7)', () => {
  test('the setup link creates the first tenant and its admin, and signs the admin in', async (t) => {
    const server = await instance(t);
    const token = await setupToken(server);
    assert.ok(token.length >= 32);
    const stored = await server.ctx.db.all<Record<string, unknown>>('SELECT * FROM setup_tokens');
    assert.ok(!JSON.stringify(stored).includes(token), 'only a hash of the setup token is stored');

    const response = await setup(server, token);
    assert.equal(response.statusCode, 201);
    const { user, tenant } = response.json();
    assert.equal(user.email, 'founder@first.test');
    assert.equal(user.role, 'admin');
    assert.deepEqual({ slug: tenant.slug, name: tenant.name }, { slug: 'first-co', name: 'First Co' });
    const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE);
    assert.ok(cookie?.httpOnly);
    const me = await server.inject({ method: 'GET', url: '/api/me', cookies: { [SESSION_COOKIE]: cookie.value } });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().user.role, 'admin');
    assert.ok(await server.login('founder@first.test', PASSWORD));
  });

  test('once a tenant exists there is no setup link, and a second setup is refused with setup_done', async (t) => {
    const server = await instance(t);
    const token = await setupToken(server);
    assert.equal((await setup(server, token)).statusCode, 201);
    assert.equal(await createSetupLink(server.ctx), undefined);
    const again = await setup(server, token, { tenantSlug: 'second-co', email: 'other@second.test' });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error, 'setup_done');
    assert.equal(await tenantCount(server), 1);
    assert.deepEqual(await server.ctx.db.all('SELECT token_hash FROM setup_tokens'), [], 'the used token is gone');
  });

  test('no setup link is made when a tenant already exists', async (t) => {
    const server = await instance(t);
    await server.seedTenant();
    assert.equal(await createSetupLink(server.ctx), undefined);
  });

  test('the setup token is single-use: two setups racing with one token create one tenant', async (t) => {
    const server = await instance(t);
    const token = await setupToken(server);
    const answers = await Promise.all([
      setup(server, token, { tenantSlug: 'racer-one' }),
      setup(server, token, { tenantSlug: 'racer-two', email: 'two@racer.test' }),
    ]);
    const statuses = answers.map((r) => r.statusCode).sort();
    assert.equal(statuses[0], 201);
    assert.ok(statuses[1] === 409 || statuses[1] === 400, `the loser is refused, not ${statuses[1]}`);
    assert.equal(await tenantCount(server), 1);
  });

  test('a setup link expires after 24 hours', async (t) => {
    const server = await instance(t);
    const expired = await setupToken(server);
    server.clock.advance(SETUP_TTL_MS - 60_000);
    const fresh = await setupToken(server);
    server.clock.advance(60_001);
    const refused = await setup(server, expired);
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().error, 'setup_token_invalid');
    assert.equal(await tenantCount(server), 0);
    assert.equal((await setup(server, fresh)).statusCode, 201);
  });

  test('a wrong token is refused with setup_token_invalid', async (t) => {
    const server = await instance(t);
    await setupToken(server);
    const response = await setup(server, 'A'.repeat(43));
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error, 'setup_token_invalid');
    assert.equal(await tenantCount(server), 0);
  });

  test('bad input is refused with its code and leaves the token usable', async (t) => {
    const server = await instance(t);
    const token = await setupToken(server);
    const cases: [Record<string, string>, string][] = [
      [{ password: 'short' }, 'weak_password'],
      [{ email: 'not-an-email' }, 'invalid_email'],
      [{ tenantSlug: 'Not A Slug' }, 'invalid_slug'],
      [{ tenantSlug: '-x-' }, 'invalid_slug'],
    ];
    for (const [overrides, code] of cases) {
      const response = await setup(server, token, overrides);
      assert.equal(response.statusCode, 400, code);
      assert.equal(response.json().error, code);
    }
    assert.equal(await tenantCount(server), 0);
    assert.equal((await setup(server, token)).statusCode, 201);
  });
});
