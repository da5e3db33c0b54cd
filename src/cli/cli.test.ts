import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, getTestInstance, PASSWORD, type TestDatabase, type TestInstance } from '../../test/instance.ts';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');
const MASTER_V1 = `v1:${Buffer.alloc(32, 7).toString('base64')}`;

function cli(database: TestDatabase, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const databaseUrl = database.databaseUrl && `${database.databaseUrl}?options=${encodeURIComponent(`-c search_path=${database.schema}`)}`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: {
          PATH: process.env.PATH,
          DATA_DIR: database.dataDir,
          PUBLIC_URL: 'http://localhost:3000',
          MASTER_KEY: MASTER_V1,
          LOG_LEVEL: 'warn',
          ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
          ...env,
        },
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('jams-imes CLI', () => {
  let database: TestDatabase;
  let server: TestInstance;
  before(async () => {
    database = await createTestDatabase();
    server = await getTestInstance({ database, env: { MASTER_KEY: MASTER_V1 } });
  });
  after(async () => {
    await server.close();
    await database.drop();
  });

  test('tenant create prints an invite URL whose acceptance signs the admin in; logout then revokes the token', async () => {
    const created = await cli(database, ['tenant', 'create', '--name', 'Acme', '--slug', 'acme', '--admin-email', 'Admin@Acme.test']);
    assert.equal(created.code, 0, created.stderr);
    const url = /http:\/\/localhost:3000\/invite\/([A-Za-z0-9_-]{43})/.exec(created.stdout);
    assert.ok(url, created.stdout);
    const invitation = await server.inject({ method: 'GET', url: `/api/invitations/${url[1]}` });
    assert.equal(invitation.statusCode, 200);
    assert.equal(invitation.json().email, 'admin@acme.test');
    const accepted = await server.inject({
      method: 'POST',
      url: `/api/invitations/${url[1]}/accept`,
      payload: { firstName: 'Ada', lastName: 'Admin', password: PASSWORD },
    });
    assert.equal(accepted.statusCode, 200, accepted.body);
    assert.equal(accepted.json().user.role, 'admin');
    const token = accepted.cookies.find((c) => c.name === 'jams_session')!.value;
    assert.equal((await server.inject({ method: 'GET', url: '/api/me', cookies: { jams_session: token } })).statusCode, 200);
    assert.equal((await server.inject({ method: 'GET', url: '/api/me', token })).statusCode, 200);
    assert.equal((await server.inject({ method: 'POST', url: '/api/auth/logout', token })).statusCode, 204);
    assert.equal((await server.inject({ method: 'GET', url: '/api/me', token })).statusCode, 401);
    assert.equal((await server.inject({ method: 'GET', url: '/api/me', cookies: { jams_session: token } })).statusCode, 401);

    const list = await cli(database, ['tenant', 'list']);
    assert.match(list.stdout, /^acme\tAcme\t1 member/m);
    const again = await cli(database, ['tenant', 'create', '--name', 'Other', '--slug', 'acme', '--admin-email', 'x@y.test']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /slug/);
  });

  test('sso enforce off restores password sign-in for a locked-out tenant, without database access', async () => {
    const seeded = await server.seedTenant({ slug: 'locked' });
    await server.ctx.db.run(
      `INSERT INTO sso_configs (tenant_id, name, issuer, discovered_issuer, client_id, scopes, claim_email, claim_first_name, claim_last_name, enforce, metadata, metadata_fetched_at, updated_at)
       VALUES ($1, 'Okta', 'https://idp.test', 'https://idp.test', 'c', 'openid email', 'email', 'given_name', 'family_name', 1, '{}', 0, 0)`,
      [seeded.tenant.id],
    );
    const refused = await server.inject({ method: 'POST', url: '/api/auth/password', payload: { email: seeded.admin.email, password: PASSWORD } });
    assert.equal(refused.json().error, 'sso_enforced');
    const off = await cli(database, ['sso', 'enforce', 'off', '--tenant', 'locked']);
    assert.equal(off.code, 0, off.stderr);
    const allowed = await server.inject({ method: 'POST', url: '/api/auth/password', payload: { email: seeded.admin.email, password: PASSWORD } });
    assert.equal(allowed.statusCode, 200);
    assert.equal((await cli(database, ['sso', 'enforce', 'off', '--tenant', 'nope'])).code, 2);
  });

  test('keys rotate adds an active key and keys list shows the old one still verifying', async () => {
    await server.seedTenant();
    const rotated = await cli(database, ['keys', 'rotate']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const listed = await cli(database, ['keys', 'list']);
    const rows = listed.stdout.trim().split('\n').slice(1);
    assert.ok(rows.length >= 2);
    assert.equal(rows.filter((row) => row.endsWith('\tactive')).length, 1);
    assert.ok(rows.some((row) => row.endsWith('retired, still verifying')));
  });

  test('secrets rotate-master-key re-encrypts under the first MASTER_KEY version', async () => {
    const v2 = `v2:${randomBytes(32).toString('base64')}`;
    const rotated = await cli(database, ['secrets', 'rotate-master-key'], { MASTER_KEY: `${v2},${MASTER_V1}` });
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /Every secret is under v2/);
    const versions = await server.ctx.db.all<{ private_key_enc: string }>('SELECT private_key_enc FROM signing_keys');
    assert.ok(versions.every((row) => row.private_key_enc.startsWith('v2.')));
    const listed = await cli(database, ['keys', 'list'], { MASTER_KEY: v2 });
    assert.equal(listed.code, 0, listed.stderr);
  });

  test('usage errors exit 2 with a sentence, and production refuses to run without MASTER_KEY', async () => {
    assert.equal((await cli(database, ['frobnicate'])).code, 2);
    const missing = await cli(database, ['tenant', 'create', '--name', 'X']);
    assert.equal(missing.code, 2, missing.stderr);
    const wrongKey = await cli(database, ['keys', 'list'], { MASTER_KEY: `v9:${randomBytes(32).toString('base64')}` });
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /MASTER_KEY must hold every version/);
    assert.doesNotMatch(wrongKey.stderr, /    at /, 'no stack trace');
    assert.match(missing.stderr, /--slug is required/);
    const production = await cli(database, ['tenant', 'list'], { NODE_ENV: 'production', MASTER_KEY: '' });
    assert.equal(production.code, 2);
    assert.match(production.stderr, /MASTER_KEY is required/);
  });
});
