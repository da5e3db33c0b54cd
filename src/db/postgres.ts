import { userInfo } from 'node:os';
import pg from 'pg';
import type { Db } from './db.ts';

// BIGINT (epoch milliseconds here) comes back as a string by default; every
// value we store fits a double exactly.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** Advisory lock key for {@link Db.exclusive}: any constant shared by all instances. */
const EXCLUSIVE_LOCK = 7_247_001;

/** Opens a pool on PostgreSQL; `schema`, when given, becomes the search path (tests use one schema each). */
export async function openPostgres(connectionString: string, schema?: string): Promise<Db> {
  const url = new URL(connectionString);
  // libpq falls back to the OS user when the URL names none; pg reads $USER,
  // which a service manager may not set.
  if (!url.username && !process.env.PGUSER) url.username = userInfo().username;
  const pool = new pg.Pool({
    connectionString: url.href,
    max: 10,
    types,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client that loses its connection must not crash the process.
  pool.on('error', () => undefined);
  if (schema) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error('invalid schema name');
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  }

  function handle(query: (sql: string, params?: unknown[]) => Promise<pg.QueryResult>, client?: pg.PoolClient): Db {
    const self: Db = {
      engine: 'postgres',
      all: async <T>(sql: string, params: readonly unknown[] = []) => (await query(sql, [...params])).rows as T[],
      one: async <T>(sql: string, params: readonly unknown[] = []) => (await query(sql, [...params])).rows[0] as T | undefined,
      run: async (sql, params = []) => (await query(sql, [...params])).rowCount ?? 0,
      exec: async (sql) => void (await query(sql)),
      transaction: (fn) => (client ? fn(self) : inTransaction(fn)),
      exclusive: (fn) =>
        client
          ? fn(self)
          : inTransaction(async (tx) => {
              await tx.run(`SELECT pg_advisory_xact_lock(${EXCLUSIVE_LOCK})`);
              return fn(tx);
            }),
      close: async () => {
        if (!client) await pool.end();
      },
    };
    return self;
  }

  async function inTransaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(handle((sql, params) => client.query(sql, params), client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  return handle((sql, params) => pool.query(sql, params));
}
