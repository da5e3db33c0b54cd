import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { createTestDatabase, getTestInstance, PASSWORD, TestClock, twoInstances } from '../../test/instance.ts';
import { assertSignedIn, configure, finish, realIdp, signIn, start, throughIdp } from '../../test/sso-driver.ts';
import { SESSION_TTL_MS } from '../sessions/sessions.ts';
import { envMasterKeySource, parseMasterKeys } from './master-key.ts';
import { resealAll } from './rotation.ts';
import { createSealer, SealError } from './sealer.ts';
import { addSigningKey } from './signing-keys.ts';

const key = () => randomBytes(32).toString('base64');
const kidsOf = (jwks: { keys: { kid: string }[] }) => jwks.keys.map((k) => k.kid);

describe('signing key rotation', () => {
  test('after keys rotate, old sessions keep working, new ones use the new kid, and JWKS lists both', async (t) => {
    const instance = await getTestInstance();
    t.after(() => instance.close());
    const seeded = await instance.seedTenant();
    const oldKid = decodeProtectedHeader(seeded.admin.token).kid!;

    const newKid = await addSigningKey(instance.ctx.db, instance.ctx.sealer, instance.clock.now() + 1);
    // A running server looks for new keys at most every 10 seconds.
    instance.clock.advance(11_000);

    const fresh = await instance.login(seeded.admin.email, PASSWORD);
    assert.equal(decodeProtectedHeader(fresh).kid, newKid);
    assert.notEqual(newKid, oldKid);
    assert.equal((await instance.inject({ method: 'GET', url: '/api/me', token: seeded.admin.token })).statusCode, 200);
    assert.equal((await instance.inject({ method: 'GET', url: '/api/me', token: fresh })).statusCode, 200);
    const jwks = (await instance.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    assert.deepEqual(new Set(kidsOf(jwks)), new Set([oldKid, newKid]));
    assert.ok(jwks.keys.every((k: Record<string, unknown>) => k.d === undefined), 'no private part is published');
  });

  test('a retired key leaves the JWKS only after the last token signed with it has expired', async (t) => {
    const instance = await getTestInstance();
    t.after(() => instance.close());
    const seeded = await instance.seedTenant();
    const oldKid = decodeProtectedHeader(seeded.admin.token).kid!;
    await addSigningKey(instance.ctx.db, instance.ctx.sealer, instance.clock.now() + 1);

    instance.clock.advance(SESSION_TTL_MS - 60_000);
    assert.ok(kidsOf((await instance.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json()).includes(oldKid));
    instance.clock.advance(120_000);
    assert.ok(!kidsOf((await instance.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json()).includes(oldKid));
  });

  test('a bot token without expiry keeps its key published after rotation, until the bot is revoked', async (t) => {
    const instance = await getTestInstance();
    t.after(() => instance.close());
    const seeded = await instance.seedTenant();
    const { bot, token } = (await instance.inject({ method: 'POST', url: '/api/bots', token: seeded.admin.token, payload: { name: 'ci' } })).json();
    const oldKid = decodeProtectedHeader(token).kid!;
    await addSigningKey(instance.ctx.db, instance.ctx.sealer, instance.clock.now() + 1);
    instance.clock.advance(400 * 24 * 60 * 60 * 1000);
    assert.equal((await instance.inject({ method: 'GET', url: '/api/ping', token })).statusCode, 204);
    assert.ok(kidsOf((await instance.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json()).includes(oldKid));
    const admin = await instance.login(seeded.admin.email, PASSWORD);
    await instance.inject({ method: 'DELETE', url: `/api/bots/${bot.id}`, token: admin });
    assert.ok(!kidsOf((await instance.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json()).includes(oldKid));
  });

  test('another instance verifies a token signed with a key it has not loaded yet', async (t) => {
    const clock = new TestClock();
    const [a, b] = await twoInstances(t, { clock });
    const seeded = await a.seedTenant();
    const newKid = await addSigningKey(a.ctx.db, a.ctx.sealer, clock.now() + 1);
    clock.advance(11_000);
    const token = await a.login(seeded.admin.email, PASSWORD);
    assert.equal(decodeProtectedHeader(token).kid, newKid);
    assert.equal((await b.inject({ method: 'GET', url: '/api/me', token })).statusCode, 200);
  });

  test('a MAC key is derived per signing key and purpose, the same on every instance, and is never published', async (t) => {
    const clock = new TestClock();
    const [a, b] = await twoInstances(t, { clock });
    const first = await a.ctx.keys.macKey('sso_state');
    assert.ok(first.key.equals((await b.ctx.keys.macKey('sso_state', first.kid))!.key), 'another instance derives the same key');
    assert.ok(!first.key.equals((await a.ctx.keys.macKey('another purpose')).key), 'each purpose has its own key');
    const newKid = await addSigningKey(a.ctx.db, a.ctx.sealer, clock.now() + 1);
    clock.advance(11_000);
    const second = await b.ctx.keys.macKey('sso_state');
    assert.equal(second.kid, newKid);
    assert.ok(!second.key.equals(first.key), 'a new signing key brings a new MAC key');
    assert.ok((await a.ctx.keys.macKey('sso_state', first.kid))!.key.equals(first.key), 'the old one still checks what it made');
    assert.equal(await a.ctx.keys.macKey('sso_state', 'no-such-kid'), undefined);
    const published = JSON.stringify((await a.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json());
    for (const mac of [first, second]) assert.ok(!published.includes(mac.key.export().toString('base64url')));
  });
});

describe('master key', () => {
  test('MASTER_KEY takes one base64 key or several versions, the first of which encrypts', () => {
    const single = parseMasterKeys(key());
    assert.equal(single[0]!.version, 'v1');
    const many = parseMasterKeys(`v3:${key()}, v2:${key()}`);
    assert.deepEqual(many.map((k) => k.version), ['v3', 'v2']);
    for (const bad of ['', 'short', `v1:${randomBytes(16).toString('base64')}`, `x1:${key()}`, `v1:${key()},v1:${key()}`]) {
      assert.throws(() => parseMasterKeys(bad), /MASTER_KEY/, bad);
    }
  });

  test('a sealed value records its key version and opens only in its own context', async () => {
    const sealer = createSealer(envMasterKeySource(`v7:${key()}`));
    const sealed = await sealer.seal('s3cret-value', 'sso_client_secret:tenant-a');
    assert.equal(sealer.versionOf(sealed), 'v7');
    assert.ok(!sealed.includes('s3cret-value'));
    assert.equal(await sealer.open(sealed, 'sso_client_secret:tenant-a'), 's3cret-value');
    await assert.rejects(sealer.open(sealed, 'sso_client_secret:tenant-b'), SealError);
    const other = createSealer(envMasterKeySource(`v7:${key()}`));
    await assert.rejects(other.open(sealed, 'sso_client_secret:tenant-a'), SealError);
  });

  test('rotate-master-key re-seals every secret while a server runs; afterwards the new key alone suffices', async (t) => {
    const database = await createTestDatabase();
    const v1 = `v1:${key()}`;
    const v2 = `v2:${key()}`;
    const before = await getTestInstance({ database, env: { MASTER_KEY: v1 } });
    t.after(() => before.close());
    const seeded = await before.seedTenant();
    const signedBefore = seeded.admin.token;
    await before.close();

    // Rolling restart with both versions: the server keeps serving while the CLI re-seals.
    const during = await getTestInstance({ database, env: { MASTER_KEY: `${v2},${v1}` } });
    t.after(() => during.close());
    const report = await resealAll(during.ctx.db, during.ctx.sealer);
    assert.equal(report.version, 'v2');
    assert.ok(report.resealed.signing_keys! >= 1);
    assert.deepEqual(report.remaining, []);
    assert.equal((await during.inject({ method: 'GET', url: '/api/me', token: signedBefore })).statusCode, 200);
    await during.close();

    const after = await getTestInstance({ database, env: { MASTER_KEY: v2 } });
    t.after(async () => {
      await after.close();
      await database.drop();
    });
    assert.equal((await after.inject({ method: 'GET', url: '/api/me', token: signedBefore })).statusCode, 200);
    assert.equal((await after.inject({ method: 'GET', url: '/api/me', token: await after.login(seeded.admin.email, PASSWORD) })).statusCode, 200);
  });

  test('SSO sign-in keeps working through a master-key rotation, and afterwards with only the new key', async (t) => {
    const database = await createTestDatabase();
    const v1 = `v1:${key()}`;
    const v2 = `v2:${key()}`;
    const first = await getTestInstance({ database, env: { MASTER_KEY: v1 } });
    t.after(() => first.close());
    const seeded = await first.seedTenant();
    const idp = await realIdp(first, { profile: 'okta', users: [{ sub: 'okta-1', email: seeded.admin.email }] });
    t.after(() => idp.close());
    await configure(first, seeded.admin.token, { issuer: idp.typedIssuer, clientId: idp.clientId, clientSecret: idp.clientSecret! });
    idp.setNextLogin('okta-1');
    await assertSignedIn(first, await signIn(first, seeded.tenant.slug), seeded.admin.email);
    // A sign-in starts before the rotation and finishes after it, on a restarted instance.
    const inFlight = await start(first, { tenant: seeded.tenant.slug });
    await first.close();

    // Rolling restart with both versions; the secrets are re-sealed while it serves.
    const during = await getTestInstance({ database, env: { MASTER_KEY: `${v2},${v1}` } });
    t.after(() => during.close());
    const report = await resealAll(during.ctx.db, during.ctx.sealer);
    assert.equal(report.resealed.sso_configs, 1);
    assert.equal(report.resealed.sso_states, 1);
    assert.deepEqual(report.remaining, []);
    const finished = await finish(during, await throughIdp(during, inFlight.location), inFlight.binding);
    await assertSignedIn(during, finished, seeded.admin.email);
    await during.close();

    const after = await getTestInstance({ database, env: { MASTER_KEY: v2 } });
    t.after(async () => {
      await after.close();
      await database.drop();
    });
    const stored = await after.ctx.db.one<{ client_secret_enc: string }>('SELECT client_secret_enc FROM sso_configs WHERE tenant_id = $1', [seeded.tenant.id]);
    assert.ok(stored!.client_secret_enc.startsWith('v2.'));
    await assertSignedIn(after, await signIn(after, seeded.tenant.slug), seeded.admin.email);
  });
});
