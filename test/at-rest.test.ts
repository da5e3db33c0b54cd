import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { engine, getTestInstance } from './instance.ts';

const PLAIN_PASSWORD = 'plaintext passphrase at rest';
const JOINER_PASSWORD = 'joiner passphrase at rest';

describe('secrets at rest (SPEC 7)', () => {
  test('the stored data holds no PEM private key, no plaintext password and no raw invitation token', async (t) => {
    const server = await getTestInstance();
    t.after(() => server.close());
    const seeded = await server.seedTenant({ password: PLAIN_PASSWORD });
    const invited = await server.inject({
      method: 'POST',
      url: '/api/members/invitations',
      token: seeded.admin.token,
      payload: { email: 'joiner@rest.test', role: 'member' },
    });
    const inviteUrl = invited.json().inviteUrl as string;
    const pending = await server.inject({
      method: 'POST',
      url: '/api/members/invitations',
      token: seeded.admin.token,
      payload: { email: 'pending@rest.test', role: 'member' },
    });
    const pendingToken = (pending.json().inviteUrl as string).split('/').pop()!;
    const accepted = await server.inject({
      method: 'POST',
      url: `/api/invitations/${inviteUrl.split('/').pop()}/accept`,
      payload: { firstName: 'Jo', lastName: 'Iner', password: JOINER_PASSWORD },
    });
    assert.equal(accepted.statusCode, 200);

    // The signing keys are there, sealed: each opens under the master key.
    const keys = await server.ctx.db.all<{ kid: string; private_key_enc: string }>('SELECT kid, private_key_enc FROM signing_keys');
    assert.ok(keys.length >= 1);
    for (const key of keys) {
      assert.equal(server.ctx.sealer.versionOf(key.private_key_enc), 'v1');
      assert.match(await server.ctx.sealer.open(key.private_key_enc, `signing_key:${key.kid}`), /PRIVATE KEY/);
    }

    let stored: string;
    if (engine === 'sqlite') {
      // The raw bytes of the database file and its write-ahead log.
      const file = path.join(server.database.dataDir, 'jams-imes.db');
      stored = [file, `${file}-wal`]
        .filter((name) => existsSync(name))
        .map((name) => readFileSync(name).toString('latin1'))
        .join('\n');
      assert.ok(stored.includes('joiner@rest.test'), 'the test reads the real data');
    } else {
      const tables = ['signing_keys', 'users', 'invitations', 'sessions', 'setup_tokens'];
      const rows = await Promise.all(tables.map((table) => server.ctx.db.all(`SELECT * FROM ${table}`)));
      stored = JSON.stringify(rows);
      assert.ok(stored.includes('joiner@rest.test'), 'the test reads the real data');
    }
    assert.ok(!stored.includes('PRIVATE KEY'), 'a PEM private key is stored in the clear');
    assert.ok(!stored.includes('BEGIN'), 'PEM armour is stored in the clear');
    for (const secret of [PLAIN_PASSWORD, JOINER_PASSWORD, pendingToken, seeded.admin.token]) {
      assert.ok(!stored.includes(secret), 'a secret is stored in the clear');
    }
    assert.ok(!stored.includes(Buffer.alloc(32, 7).toString('base64')), 'the master key is not stored');
  });
});
