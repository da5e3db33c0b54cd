import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { DEFAULT_HOSTILE_USER } from '../../test/idp/hostile.ts';
import { engine, getTestInstance, type TestInstance } from '../../test/instance.ts';
import { configure, finish, hostileIdp, start, throughIdp } from '../../test/sso-driver.ts';

/** Everything stored, as text: the SQLite files' bytes (WAL included), or every PostgreSQL row. */
async function databaseText(t: TestInstance): Promise<string> {
  if (engine === 'sqlite') {
    const files = readdirSync(t.database.dataDir).filter((name) => name.startsWith('jams-imes.db'));
    assert.ok(files.length > 0);
    return files.map((name) => readFileSync(path.join(t.database.dataDir, name)).toString('latin1')).join('\n');
  }
  const tables = await t.ctx.db.all<{ table_name: string }>(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
    [t.database.schema],
  );
  assert.ok(tables.some((table) => table.table_name === 'sso_configs'));
  const rows: string[] = [];
  for (const { table_name } of tables) {
    for (const row of await t.ctx.db.all<{ text: string }>(`SELECT x::text AS text FROM ${table_name} x`)) rows.push(row.text);
  }
  return rows.join('\n');
}

test('no client secret, code, token or PKCE verifier appears in a response, a URL we build, a log line or the database', async (context) => {
  const t = await getTestInstance();
  const clientSecret = 'hygiene-client-secret-7f3a9c';
  const idp = await hostileIdp({ clientSecret });
  context.after(async () => {
    await idp.close();
    await t.close();
  });
  const seeded = await t.seedTenant();
  await t.seedUser(seeded.tenant.id, { email: DEFAULT_HOSTILE_USER.email });

  const responses: LightMyRequestResponse[] = [];
  const verifiers: string[] = [];
  const bindings: string[] = [];
  const sessions: string[] = [];

  const saved = await t.inject({
    method: 'PUT',
    url: '/api/integrations/sso',
    token: seeded.admin.token,
    payload: { name: 'Hostile', issuer: idp.issuer, clientId: idp.clientId, clientSecret },
  });
  assert.equal(saved.statusCode, 200);
  responses.push(saved);
  // Re-saved with the secret left blank, and read back.
  await configure(t, seeded.admin.token, { issuer: idp.issuer, clientId: idp.clientId, clientSecret: '' });
  responses.push(await t.inject({ method: 'GET', url: '/api/integrations/sso', token: seeded.admin.token }));

  /** One sign-in under a scenario, keeping everything a leak could be made of. */
  async function signInUnder(scenario: Parameters<typeof idp.setScenario>[0]) {
    idp.setScenario(scenario);
    const started = await start(t, { tenant: seeded.tenant.slug });
    responses.push(started.response);
    bindings.push(started.binding!);
    const state = await t.ctx.db.one<{ id: string; code_verifier_enc: string }>(
      'SELECT id, code_verifier_enc FROM sso_states WHERE tenant_id = $1 ORDER BY expires_at DESC LIMIT 1',
      [seeded.tenant.id],
    );
    verifiers.push(await t.ctx.sealer.open(state!.code_verifier_enc, `sso_state:${state!.id}`));
    const done = await finish(t, await throughIdp(t, started.location), started.binding);
    responses.push(done.response);
    if (done.session) sessions.push(done.session);
    return done;
  }
  assert.equal((await signInUnder('ok')).error, null);
  assert.equal((await signInUnder('email_only_in_userinfo')).error, null, 'UserInfo was called with the access token');
  assert.equal((await signInUnder('token_invalid_grant')).error, 'sso_idp_rejected');
  assert.equal((await signInUnder('nonce_mismatch')).error, 'sso_token_invalid');
  responses.push(await t.inject({ method: 'GET', url: '/api/integrations/sso/attempts', token: seeded.admin.token }));

  const secrets = new Map<string, string>([
    ['client secret', clientSecret],
    ...idp.issued.map((value, i) => [`issued code or token #${i}`, value] as [string, string]),
    ...verifiers.map((value, i) => [`PKCE verifier #${i}`, value] as [string, string]),
  ]);
  assert.ok(idp.issued.length >= 7, 'codes and tokens were issued');

  for (const response of responses) {
    const visible = `${response.body}\n${response.headers.location ?? ''}`;
    for (const [what, value] of secrets) assert.ok(!visible.includes(value), `${what} in a response to ${response.raw.req.url}`);
  }
  const logs = t.logs.join('\n');
  assert.ok(logs.includes('sso_idp_rejected'), 'refusals are logged with their code');
  const stored = await databaseText(t);
  assert.ok(stored.includes(seeded.tenant.id), 'the database text is readable');
  const everySecret = new Map([
    ...secrets,
    ...bindings.map((value, i) => [`binding cookie #${i}`, value] as [string, string]),
    ...sessions.map((value, i) => [`session token #${i}`, value] as [string, string]),
  ]);
  for (const [what, value] of everySecret) {
    assert.ok(!logs.includes(value), `${what} in the log`);
    assert.ok(!stored.includes(value), `${what} in the database`);
  }
});
