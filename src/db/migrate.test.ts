import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { createTestDatabase, getTestInstance, type TestDatabase } from '../../test/instance.ts';
import { openDb, type Db } from './db.ts';
import { migrate } from './migrate.ts';

/** A handle on the test database, as another process sharing it would open one. */
function open(database: TestDatabase): Promise<Db> {
  return openDb({
    databaseUrl: database.databaseUrl,
    sqlitePath: path.join(database.dataDir, 'jams-imes.db'),
    ...(database.schema ? { schema: database.schema } : {}),
  });
}

/** Every migration file, by id, in order. */
const ALL = readdirSync(path.join(import.meta.dirname, 'migrations'))
  .filter((file) => /^\d+_.*\.ts$/.test(file))
  .map((file) => file.replace(/\.ts$/, ''))
  .sort();

async function fresh(t: TestContext): Promise<TestDatabase> {
  const database = await createTestDatabase();
  t.after(() => database.drop());
  return database;
}

describe('migrations', () => {
  test('a fresh database gets every migration once; running again changes nothing', async (t) => {
    const db = await open(await fresh(t));
    t.after(() => db.close());
    assert.ok(ALL.includes('001_initial'));
    assert.deepEqual(await migrate(db), ALL);
    assert.deepEqual(await migrate(db), []);
    const rows = await db.all<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
    assert.deepEqual(rows.map((row) => row.id), ALL);
  });

  test('two concurrent migrate() calls on one database both succeed and apply each migration once', async (t) => {
    const database = await fresh(t);
    const a = await open(database);
    const b = await open(database);
    t.after(async () => {
      await a.close();
      await b.close();
    });
    const results = await Promise.all([migrate(a), migrate(b)]);
    assert.deepEqual(results.flat().sort(), ALL);
    const rows = await b.all<{ id: string }>('SELECT id FROM schema_migrations');
    assert.equal(rows.length, ALL.length);
    // The schema is whole: both handles can use it.
    await a.run('INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4)', ['t1', 'one', 'One', 1]);
    assert.equal((await b.one<{ slug: string }>('SELECT slug FROM tenants WHERE id = $1', ['t1']))?.slug, 'one');
  });

  test('the server migrates at start, and a second instance on the same database starts on the migrated schema', async (t) => {
    const database = await fresh(t);
    const first = await getTestInstance({ database });
    t.after(() => first.close());
    const applied = await first.ctx.db.all<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
    assert.deepEqual(applied.map((row) => row.id), ALL);
    const second = await getTestInstance({ database });
    t.after(() => second.close());
    assert.equal((await second.ctx.db.all('SELECT id FROM schema_migrations')).length, ALL.length);
    const seeded = await first.seedTenant();
    assert.equal((await second.inject({ method: 'GET', url: '/api/me', token: seeded.admin.token })).statusCode, 200);
  });
});
