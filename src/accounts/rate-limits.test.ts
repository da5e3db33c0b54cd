import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { after, before, describe, test } from 'node:test';
import { getTestInstance, PASSWORD, type Seeded, type TestInstance } from '../../test/instance.ts';
import { seedSsoConfig } from '../../test/sso-rows.ts';

const PER_IP = 3;
const PER_EMAIL = 3;
const WINDOW_MS = 15 * 60 * 1000;

let ip = 0;
/** A client address of its own, so that the per-IP limit does not mix into what a test measures. */
const nextIp = () => `10.1.${Math.floor(++ip / 250)}.${(ip % 250) + 1}`;

function assertRateLimited(response: LightMyRequestResponse, maxRetryAfter: number) {
  assert.equal(response.statusCode, 429, response.body);
  assert.equal(response.json().error, 'rate_limited');
  const retryAfter = Number(response.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= maxRetryAfter, `Retry-After: ${response.headers['retry-after']}`);
}

describe('rate limits on sign-in (SPEC 8.2: 429 rate_limited)', () => {
  let t: TestInstance;
  let seeded: Seeded;
  before(async () => {
    t = await getTestInstance({
      env: { RATE_LIMIT_SIGNIN_PER_MINUTE: String(PER_IP), RATE_LIMIT_FAILED_SIGNINS_PER_EMAIL: String(PER_EMAIL) },
    });
    seeded = await t.seedTenant();
  });
  after(() => t.close());

  const signIn = (email: string, password: string, remoteAddress = nextIp()) =>
    t.inject({ method: 'POST', url: '/api/auth/password', payload: { email, password }, remoteAddress });

  const endpoints: [string, string, () => Record<string, unknown>][] = [
    ['discover', '/api/auth/discover', () => ({ email: `ip-${ip}@example.com` })],
    ['password', '/api/auth/password', () => ({ email: `ip-${Math.random()}@example.com`, password: 'x' })],
    ['invitation accept', '/api/invitations/not-a-token/accept', () => ({ firstName: 'A', lastName: 'B', password: 'long enough password' })],
    ['setup', '/api/setup', () => ({ token: 'x', tenantName: 'X', tenantSlug: 'x1', email: 'a@b.co', firstName: 'A', lastName: 'B', password: 'long enough password' })],
  ];
  for (const [name, url, payload] of endpoints) {
    test(`${name}: RATE_LIMIT_SIGNIN_PER_MINUTE requests per client IP, then 429 rate_limited with Retry-After`, async () => {
      const address = nextIp();
      for (let i = 0; i < PER_IP; i++) {
        const response = await t.inject({ method: 'POST', url, payload: payload(), remoteAddress: address });
        assert.notEqual(response.statusCode, 429, `request ${i + 1} of ${PER_IP} is allowed`);
      }
      assertRateLimited(await t.inject({ method: 'POST', url, payload: payload(), remoteAddress: address }), 60);
      // Another client is not affected.
      assert.notEqual((await t.inject({ method: 'POST', url, payload: payload(), remoteAddress: nextIp() })).statusCode, 429);
    });
  }

  test('after RATE_LIMIT_FAILED_SIGNINS_PER_EMAIL failures, the email is throttled from any IP; the throttle lifts after the window', async () => {
    await t.seedUser(seeded.tenant.id, { email: 'target@example.com' });
    for (let i = 0; i < PER_EMAIL; i++) {
      const response = await signIn('target@example.com', `wrong password ${i}`);
      assert.equal(response.statusCode, 401);
    }
    // Even the correct password, from a fresh address, in another spelling of the email.
    assertRateLimited(await signIn('  Target@Example.com ', PASSWORD), WINDOW_MS / 1000);
    // Other emails are not affected.
    assert.equal((await signIn(seeded.admin.email, PASSWORD)).statusCode, 200);

    t.clock.advance(WINDOW_MS - 60_000);
    assertRateLimited(await signIn('target@example.com', PASSWORD), 60);
    t.clock.advance(60_001);
    assert.equal((await signIn('target@example.com', PASSWORD)).statusCode, 200);
  });

  test("an unknown email's failures are throttled the same way (the throttle does not reveal who has an account)", async () => {
    for (let i = 0; i < PER_EMAIL; i++) assert.equal((await signIn('nobody@example.com', 'wrong')).statusCode, 401);
    assertRateLimited(await signIn('nobody@example.com', 'wrong'), WINDOW_MS / 1000);
  });

  test('wrong passwords for an email that also belongs to a tenant enforcing SSO are throttled too', async () => {
    const enforcing = await t.seedTenant();
    await seedSsoConfig(t.ctx.db, enforcing.tenant.id, { name: 'Okta', enforce: true });
    await t.seedUser(seeded.tenant.id, { email: 'mixed@example.com' });
    await t.seedUser(enforcing.tenant.id, { email: 'mixed@example.com' });
    for (let i = 0; i < PER_EMAIL; i++) {
      const response = await signIn('mixed@example.com', `wrong password ${i}`);
      assert.equal(response.statusCode, 401);
      assert.equal(response.json().error, 'invalid_credentials');
    }
    assertRateLimited(await signIn('mixed@example.com', PASSWORD), WINDOW_MS / 1000);
  });
});
