import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { SignJWT, createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { createTestDatabase, getTestInstance, PASSWORD, type Seeded, type TestDatabase, type TestInstance } from '../../test/instance.ts';
import { SESSION_COOKIE } from '../http/auth.ts';
import { SESSION_TTL_MS } from './sessions.ts';

const me = (t: TestInstance, token: string) => t.inject({ method: 'GET', url: '/api/me', token });
const meByCookie = (t: TestInstance, token: string) => t.inject({ method: 'GET', url: '/api/me', cookies: { [SESSION_COOKIE]: token } });

function assertRefused(response: { statusCode: number; json(): { error?: string } }) {
  assert.equal(response.statusCode, 401);
  assert.equal(response.json().error, 'unauthenticated');
}

/** Polls until `check` holds, for at most `ms`; answers how long it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) assert.fail(`not within ${ms} ms`);
    await sleep(50);
  }
  return Date.now() - start;
}

describe('sessions (SPEC 2, 7)', () => {
  let t: TestInstance;
  let seeded: Seeded;
  before(async () => {
    t = await getTestInstance();
    seeded = await t.seedTenant();
  });
  after(() => t.close());

  test('a session token is an EdDSA JWT whose kid is published at /.well-known/jwks.json, lasting 8 hours', async () => {
    const token = await t.login(seeded.admin.email, PASSWORD);
    const header = decodeProtectedHeader(token);
    assert.equal(header.alg, 'EdDSA');
    assert.ok(header.kid);
    const response = await t.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(response.statusCode, 200);
    const jwks = response.json() as { keys: JWK[] };
    const key = jwks.keys.find((k) => k.kid === header.kid);
    assert.ok(key, 'the kid is published');
    for (const k of jwks.keys) assert.equal(k.d, undefined, 'no private key material is published');
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { currentDate: new Date(t.clock.now()), issuer: t.publicUrl });
    assert.equal(payload.exp! - payload.iat!, SESSION_TTL_MS / 1000);
    assert.equal(payload.sub, seeded.admin.id);
  });

  test('a session lasts 8 hours', async () => {
    const used = await t.login(seeded.admin.email, PASSWORD);
    const unused = await t.login(seeded.admin.email, PASSWORD);
    assert.equal((await me(t, used)).statusCode, 200);
    t.clock.advance(SESSION_TTL_MS - 1000);
    assert.equal((await me(t, used)).statusCode, 200);
    t.clock.advance(2000);
    // Whether this instance has seen the token before or not.
    assertRefused(await me(t, used));
    assertRefused(await me(t, unused));
    assertRefused(await meByCookie(t, used));
    seeded.admin.token = await t.login(seeded.admin.email, PASSWORD);
  });

  test('logout ends the session on the server: the same token is refused afterwards, by bearer and by cookie', async () => {
    const token = await t.login(seeded.admin.email, PASSWORD);
    assert.equal((await meByCookie(t, token)).statusCode, 200);
    const logout = await t.inject({ method: 'POST', url: '/api/auth/logout', cookies: { [SESSION_COOKIE]: token } });
    assert.equal(logout.statusCode, 204);
    const cleared = logout.cookies.find((c) => c.name === SESSION_COOKIE);
    assert.ok(cleared && (cleared.value === '' || (cleared.expires as Date).getTime() <= Date.now()), 'the cookie is cleared');
    assertRefused(await me(t, token));
    assertRefused(await meByCookie(t, token));
    const row = await t.ctx.db.one<{ revoked_at: number | null }>('SELECT revoked_at FROM sessions WHERE user_id = $1 AND revoked_at IS NOT NULL', [
      seeded.admin.id,
    ]);
    assert.ok(row?.revoked_at, 'the revocation is stored');
  });

  test('logout by bearer ends that session only', async () => {
    const first = await t.login(seeded.admin.email, PASSWORD);
    const second = await t.login(seeded.admin.email, PASSWORD);
    assert.equal((await t.inject({ method: 'POST', url: '/api/auth/logout', token: first })).statusCode, 204);
    assertRefused(await me(t, first));
    assert.equal((await me(t, second)).statusCode, 200);
  });

  test('deactivating a user ends all of their sessions and bot tokens', async () => {
    const other = await t.seedUser(seeded.tenant.id, { email: 'second-admin@example.com', role: 'admin' });
    const sessions = [await t.login('second-admin@example.com', PASSWORD), await t.login('second-admin@example.com', PASSWORD)];
    const bot = await t.inject({ method: 'POST', url: '/api/bots', token: sessions[0], payload: { name: 'ci' } });
    assert.equal(bot.statusCode, 201);
    const botToken = bot.json().token as string;
    for (const token of [...sessions, botToken]) assert.equal((await me(t, token)).statusCode, 200);

    const deactivated = await t.inject({ method: 'POST', url: `/api/members/${other.id}/deactivate`, token: seeded.admin.token });
    assert.equal(deactivated.statusCode, 200);
    for (const token of [...sessions, botToken]) assertRefused(await me(t, token));

    // Reactivation does not bring the old sessions back.
    assert.equal((await t.inject({ method: 'POST', url: `/api/members/${other.id}/reactivate`, token: seeded.admin.token })).statusCode, 200);
    for (const token of sessions) assertRefused(await me(t, token));
    assert.equal((await me(t, await t.login('second-admin@example.com', PASSWORD))).statusCode, 200);
  });

  test('a forged, tampered or unsigned token is refused', async () => {
    const token = await t.login(seeded.admin.email, PASSWORD);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const { kid } = decodeProtectedHeader(token);
    const foreign = generateKeyPairSync('ed25519').privateKey;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: kid!, typ: 'JWT' }).sign(foreign);
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', kid })).toString('base64url')}.${payload}.`;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${signature}`;
    const flipped = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const bad of [forged, unsigned, tampered, flipped, 'garbage', `${header}.${payload}`]) assertRefused(await me(t, bad));
  });
});

describe('two server instances sharing one database', () => {
  let database: TestDatabase;
  let a: TestInstance;
  let b: TestInstance;
  let seeded: Seeded;
  before(async () => {
    database = await createTestDatabase();
    a = await getTestInstance({ database });
    b = await getTestInstance({ database });
    seeded = await a.seedTenant();
  });
  after(async () => {
    await a.close();
    await b.close();
    await database.drop();
  });

  test('a logout on one instance is rejected by the other within 5 seconds, even for a token the other has cached as verified', async () => {
    const token = await a.login(seeded.admin.email, PASSWORD);
    // B verifies the signature once and remembers the token.
    assert.equal((await me(b, token)).statusCode, 200);
    assert.equal((await me(b, token)).statusCode, 200);
    assert.equal((await a.inject({ method: 'POST', url: '/api/auth/logout', token })).statusCode, 204);
    assertRefused(await me(a, token));
    await within(5000, async () => (await me(b, token)).statusCode === 401);
    assertRefused(await meByCookie(b, token));
  });

  test('a token first shown to the other instance after logout is refused at once', async () => {
    const token = await a.login(seeded.admin.email, PASSWORD);
    assert.equal((await a.inject({ method: 'POST', url: '/api/auth/logout', token })).statusCode, 204);
    assertRefused(await me(b, token));
  });

  test('deactivation on one instance ends the sessions the other has cached within 5 seconds', async () => {
    const member = await a.seedUser(seeded.tenant.id, { email: 'member@example.com' });
    const token = await b.login('member@example.com', PASSWORD);
    assert.equal((await me(b, token)).statusCode, 200);
    assert.equal((await a.inject({ method: 'POST', url: `/api/members/${member.id}/deactivate`, token: seeded.admin.token })).statusCode, 200);
    await within(5000, async () => (await b.inject({ method: 'GET', url: '/api/ping', token })).statusCode === 401);
  });

  test('a session signed in on one instance works on the other', async () => {
    const token = await b.login(seeded.admin.email, PASSWORD);
    assert.equal((await me(a, token)).statusCode, 200);
    assert.equal((await me(b, token)).statusCode, 200);
  });
});
