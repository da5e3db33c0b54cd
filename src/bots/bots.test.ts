import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { getTestInstance, PASSWORD, twoInstances, type Seeded, type TestInstance } from '../../test/instance.ts';

const DAY = 24 * 60 * 60 * 1000;

async function createBot(t: TestInstance, adminToken: string, body: Record<string, unknown>) {
  return t.inject({ method: 'POST', url: '/api/bots', token: adminToken, payload: body });
}

describe('bots', () => {
  let t: TestInstance;
  let seeded: Seeded;
  before(async () => {
    t = await getTestInstance();
    seeded = await t.seedTenant();
  });
  after(() => t.close());

  test('an admin creates a bot and its token, shown once, authenticates /api/me as the bot', async () => {
    const created = await createBot(t, seeded.admin.token, { name: 'deploy-bot' });
    assert.equal(created.statusCode, 201);
    const { bot, token } = created.json();
    assert.equal(bot.name, 'deploy-bot');
    assert.equal(bot.expiresAt, null);
    const me = await t.inject({ method: 'GET', url: '/api/me', token });
    assert.equal(me.statusCode, 200);
    assert.deepEqual(me.json(), { bot: { id: bot.id, name: 'deploy-bot' }, tenant: { id: seeded.tenant.id, slug: seeded.tenant.slug, name: seeded.tenant.name } });
    const list = await t.inject({ method: 'GET', url: '/api/bots', token: seeded.admin.token });
    assert.equal(list.statusCode, 200);
    const listed = list.json().bots.find((b: { id: string }) => b.id === bot.id);
    assert.ok(listed);
    assert.equal(JSON.stringify(list.json()).includes(token), false, 'the token is never listed again');
    const jwks = (await t.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    assert.ok(jwks.keys.some((key: { kid: string }) => key.kid === decodeProtectedHeader(token).kid));
  });

  test('a bot gets 403 on SSO, member and bot management', async () => {
    const { token } = (await createBot(t, seeded.admin.token, { name: 'nosy' })).json();
    for (const [method, url] of [
      ['GET', '/api/integrations/sso'],
      ['GET', '/api/integrations/sso/attempts'],
      ['DELETE', '/api/integrations/sso'],
      ['GET', '/api/members'],
      ['POST', '/api/members/invitations'],
      ['GET', '/api/bots'],
      ['POST', '/api/bots'],
    ] as const) {
      const response = await t.inject({ method, url, token, ...(method === 'POST' ? { payload: { email: 'x@y.test', role: 'admin', name: 'x' } } : {}) });
      assert.equal(response.statusCode, 403, `${method} ${url}`);
      assert.equal(response.json().error, 'forbidden', `${method} ${url}`);
    }
  });

  test('a revoked bot token is refused on its next request', async () => {
    const { bot, token } = (await createBot(t, seeded.admin.token, { name: 'short-lived' })).json();
    assert.equal((await t.inject({ method: 'GET', url: '/api/ping', token })).statusCode, 204);
    const revoked = await t.inject({ method: 'DELETE', url: `/api/bots/${bot.id}`, token: seeded.admin.token });
    assert.equal(revoked.statusCode, 204);
    const refused = await t.inject({ method: 'GET', url: '/api/me', token });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.json().error, 'unauthenticated');
    const list = (await t.inject({ method: 'GET', url: '/api/bots', token: seeded.admin.token })).json();
    assert.equal(list.bots.some((b: { id: string }) => b.id === bot.id), false);
    assert.equal((await t.inject({ method: 'DELETE', url: `/api/bots/${bot.id}`, token: seeded.admin.token })).statusCode, 404);
  });

  test('a bot token with an expiry stops working when it expires', async () => {
    const created = await createBot(t, seeded.admin.token, { name: 'monthly', expiresInDays: 30 });
    assert.equal(created.statusCode, 201);
    const { bot, token } = created.json();
    assert.equal(new Date(bot.expiresAt).getTime(), t.clock.now() + 30 * DAY);
    t.clock.advance(29 * DAY);
    try {
      assert.equal((await t.inject({ method: 'GET', url: '/api/ping', token })).statusCode, 204);
      t.clock.advance(2 * DAY);
      assert.equal((await t.inject({ method: 'GET', url: '/api/ping', token })).statusCode, 401);
    } finally {
      t.clock.advance(-31 * DAY);
    }
  });

  test('only 30, 90 or 365 days, or none, are accepted as an expiry', async () => {
    for (const expiresInDays of [7, 0, -30, '30', 30.5, null]) {
      const response = await createBot(t, seeded.admin.token, { name: 'x', expiresInDays });
      assert.equal(response.statusCode, 400, String(expiresInDays));
      assert.equal(response.json().error, 'invalid_body');
    }
    assert.equal((await createBot(t, seeded.admin.token, { name: '   ' })).json().error, 'invalid_body');
    for (const expiresInDays of [30, 90, 365]) assert.equal((await createBot(t, seeded.admin.token, { name: 'ok', expiresInDays })).statusCode, 201);
  });

  test("a bot of another tenant answers 404 and keeps working", async () => {
    const other = await t.seedTenant();
    const { bot, token } = (await createBot(t, other.admin.token, { name: 'theirs' })).json();
    const response = await t.inject({ method: 'DELETE', url: `/api/bots/${bot.id}`, token: seeded.admin.token });
    assert.equal(response.statusCode, 404);
    assert.equal((await t.inject({ method: 'GET', url: '/api/ping', token })).statusCode, 204);
  });

  test('deactivating the admin who created a bot leaves no live token behind', async () => {
    const ownerEmail = 'second-admin@acme.test';
    const second = await t.seedUser(seeded.tenant.id, { email: ownerEmail, role: 'admin' });
    const ownerSession = await t.login(ownerEmail, PASSWORD, seeded.tenant.slug);
    const { token } = (await createBot(t, ownerSession, { name: 'owned' })).json();
    assert.equal((await t.inject({ method: 'GET', url: '/api/ping', token })).statusCode, 204);
    const deactivated = await t.inject({ method: 'POST', url: `/api/members/${second.id}/deactivate`, token: seeded.admin.token });
    assert.equal(deactivated.statusCode, 200);
    assert.equal((await t.inject({ method: 'GET', url: '/api/ping', token })).statusCode, 401);
    assert.equal((await t.inject({ method: 'GET', url: '/api/ping', token: ownerSession })).statusCode, 401);
  });
});

describe('bot revocation across instances', () => {
  test('a bot revoked on one instance is refused by another on its next request', async (t) => {
    const [a, b] = await twoInstances(t);
    const seeded = await a.seedTenant();
    const { bot, token } = (await createBot(a, seeded.admin.token, { name: 'shared' })).json();
    assert.equal((await b.inject({ method: 'GET', url: '/api/ping', token })).statusCode, 204, 'b verifies and caches it');
    assert.equal((await a.inject({ method: 'DELETE', url: `/api/bots/${bot.id}`, token: seeded.admin.token })).statusCode, 204);
    assert.equal((await b.inject({ method: 'GET', url: '/api/ping', token })).statusCode, 401);
  });
});
