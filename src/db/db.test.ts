import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../test/instance.ts';
import { openDb, type Db } from './db.ts';
import { migrate } from './migrate.ts';

const open = (database: TestDatabase) =>
  openDb({
    databaseUrl: database.databaseUrl,
    sqlitePath: path.join(database.dataDir, 'jams-imes.db'),
    ...(database.schema ? { schema: database.schema } : {}),
  });

let n = 0;
const tenant = () => {
  n += 1;
  return [`id-${n}`, `slug-${n}`, `Tenant ${n}`, 1_700_000_000_000 + n] as const;
};
const INSERT = 'INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4)';

describe('the database handle, on either engine', () => {
  let database: TestDatabase;
  let a: Db;
  let b: Db;
  before(async () => {
    database = await createTestDatabase();
    a = await open(database);
    b = await open(database);
    await migrate(a);
  });
  after(async () => {
    await a.close();
    await b.close();
    await database.drop();
  });

  test('epoch milliseconds (BIGINT) come back as numbers', async () => {
    const row = tenant();
    await a.run(INSERT, row);
    const stored = await a.one<{ created_at: unknown }>('SELECT created_at FROM tenants WHERE id = $1', [row[0]]);
    assert.equal(stored?.created_at, row[3]);
  });

  test('run answers how many rows changed', async () => {
    const row = tenant();
    assert.equal(await a.run(INSERT, row), 1);
    assert.equal(await a.run('UPDATE tenants SET name = $1 WHERE id = $2', ['Renamed', row[0]]), 1);
    assert.equal(await a.run('UPDATE tenants SET name = $1 WHERE id = $2', ['Renamed', 'no-such-id']), 0);
  });

  test('a transaction that throws leaves nothing behind', async () => {
    const row = tenant();
    await assert.rejects(
      a.transaction(async (tx) => {
        await tx.run(INSERT, row);
        throw new Error('abort');
      }),
      /abort/,
    );
    assert.equal(await a.one('SELECT id FROM tenants WHERE id = $1', [row[0]]), undefined);
  });

  test("a statement outside a transaction does not join it, even while the transaction awaits", async () => {
    const inside = tenant();
    const outside = tenant();
    let outsideDone: Promise<number> | undefined;
    await assert.rejects(
      a.transaction(async (tx) => {
        await tx.run(INSERT, inside);
        outsideDone = a.run(INSERT, outside);
        await sleep(10);
        throw new Error('abort');
      }),
      /abort/,
    );
    assert.equal(await outsideDone, 1);
    assert.equal(await a.one('SELECT id FROM tenants WHERE id = $1', [inside[0]]), undefined);
    assert.ok(await a.one('SELECT id FROM tenants WHERE id = $1', [outside[0]]));
  });

  test("a write through a second handle waits, without failing, for the first handle's transaction", async () => {
    const first = tenant();
    const second = tenant();
    const third = tenant();
    let waited: Promise<unknown> | undefined;
    await a.transaction(async (tx) => {
      await tx.run(INSERT, first);
      waited = Promise.all([b.run(INSERT, second), b.transaction((other) => other.run(INSERT, third))]);
      // Holds the write lock across a real wait, as a transaction doing I/O would.
      await sleep(50);
      await tx.run('UPDATE tenants SET name = $1 WHERE id = $2', ['Still first', first[0]]);
    });
    await waited;
    const rows = await b.all<{ id: string }>('SELECT id FROM tenants WHERE id IN ($1, $2, $3)', [first[0], second[0], third[0]]);
    assert.equal(rows.length, 3);
  });

  test('exclusive sections of two handles take turns', async () => {
    const order: string[] = [];
    const section = (db: Db, name: string) =>
      db.exclusive(async (tx) => {
        order.push(`${name} in`);
        await tx.one('SELECT 1 AS one');
        await sleep(20);
        order.push(`${name} out`);
      });
    await Promise.all([section(a, 'a'), section(b, 'b')]);
    assert.equal(order.length, 4);
    assert.equal(order[0]!.slice(0, 1), order[1]!.slice(0, 1), `sections interleaved: ${order.join(', ')}`);
    assert.equal(order[2]!.slice(0, 1), order[3]!.slice(0, 1), `sections interleaved: ${order.join(', ')}`);
  });
});
