import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { createTestDatabase, getTestInstance, PASSWORD } from '../../test/instance.ts';
import { fileMasterKeySource, parseMasterKeys } from './master-key.ts';

describe('the generated master key file (SPEC 7)', () => {
  test('without MASTER_KEY a key file is generated in the data directory with mode 0600', async (t) => {
    const root = mkdtempSync(path.join(tmpdir(), 'jams-key-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const dataDir = path.join(root, 'data');
    const created: string[] = [];
    const source = fileMasterKeySource(dataDir, (file) => created.push(file));
    const file = path.join(dataDir, 'master.key');
    assert.deepEqual(created, [file]);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const [stored] = parseMasterKeys(readFileSync(file, 'utf8'));
    const current = await source.current();
    assert.equal(current.key.length, 32);
    assert.deepEqual(current.key, stored!.key);
    assert.equal(current.version, stored!.version);

    // A second start reads the same key instead of making another.
    const again = fileMasterKeySource(dataDir, (f) => created.push(f));
    assert.deepEqual((await again.current()).key, current.key);
    assert.equal(created.length, 1);
  });

  test('a server started without MASTER_KEY warns, keeps its key file private, and the next start opens the same signing keys', async (t) => {
    const database = await createTestDatabase();
    t.after(() => database.drop());
    const first = await getTestInstance({ database, env: { MASTER_KEY: '' } });
    const seeded = await first.seedTenant();
    const file = path.join(database.dataDir, 'master.key');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const warnings = first.logs.map((line) => JSON.parse(line)).filter((line) => line.level === 40);
    assert.ok(
      warnings.some((line) => String(line.msg).includes(file)),
      'a warning names the generated key file',
    );
    const key = readFileSync(file, 'utf8').trim();
    const secret = key.slice(key.indexOf(':') + 1);
    assert.ok(!first.logs.join('').includes(secret), 'the key itself is never logged');
    await first.close();

    const second = await getTestInstance({ database, env: { MASTER_KEY: '' } });
    t.after(() => second.close());
    // The session signed by the first start still verifies: the private keys opened under the same file key.
    const me = await second.inject({ method: 'GET', url: '/api/me', token: seeded.admin.token });
    assert.equal(me.statusCode, 200);
    assert.ok(await second.login(seeded.admin.email, PASSWORD));
    assert.equal(readFileSync(file, 'utf8').trim(), key);
  });
});
