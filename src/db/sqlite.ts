import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { Db } from './db.ts';

/**
 * The embedded engine. node:sqlite is synchronous and has one connection, so
 * an open transaction would otherwise swallow statements from unrelated
 * requests that run while it awaits; a queue keeps them outside it.
 */
export function openSqlite(file: string): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const database = new DatabaseSync(file);
  database.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;');
  const statements = new Map<string, StatementSync>();
  let queue: Promise<unknown> = Promise.resolve();
  let inTransaction = false;

  function prepare(sql: string): StatementSync {
    let statement = statements.get(sql);
    if (!statement) {
      // `$1` → `?1`: SQLite's numbered parameters bind the same way.
      statement = database.prepare(sql.replace(/\$(\d+)/g, '?$1'));
      statements.set(sql, statement);
    }
    return statement;
  }

  const bind = (params: readonly unknown[]) => params.map(toSqlite);

  const direct = {
    all: <T>(sql: string, params: readonly unknown[] = []) => prepare(sql).all(...bind(params)) as T[],
    run: (sql: string, params: readonly unknown[] = []) => Number(prepare(sql).run(...bind(params)).changes),
  };

  /** Waits for any running transaction, so that statements never join it by accident. */
  function serial<T>(fn: () => T | Promise<T>): Promise<T> {
    // Decided now, not in a later microtask: between this check and the
    // statement, no transaction can begin.
    if (!inTransaction) {
      try {
        return Promise.resolve(fn());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  }

  function handle(inside: boolean): Db {
    const gate = inside ? <T>(fn: () => T | Promise<T>) => Promise.resolve().then(fn) : serial;
    const self: Db = {
      engine: 'sqlite',
      all: (sql, params) => gate(() => direct.all(sql, params)),
      one: async (sql, params) => (await gate(() => direct.all(sql, params)))[0] as never,
      run: (sql, params) => gate(() => direct.run(sql, params)),
      exec: (sql) => gate(() => void database.exec(sql)),
      transaction: (fn) => (inside ? fn(self) : runTransaction(fn)),
      exclusive: (fn) => (inside ? fn(self) : runTransaction(fn)),
      close: async () => {
        if (!inside) database.close();
      },
    };
    return self;
  }

  function runTransaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const body = async () => {
      inTransaction = true;
      // IMMEDIATE takes the write lock up front, so another process sharing
      // the file cannot interleave a write between our read and our write.
      database.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(handle(true));
        database.exec('COMMIT');
        return result;
      } catch (error) {
        database.exec('ROLLBACK');
        throw error;
      } finally {
        inTransaction = false;
      }
    };
    const next = queue.then(body, body);
    queue = next.catch(() => undefined);
    return next;
  }

  return handle(false);
}

function toSqlite(value: unknown): SQLInputValue {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value as SQLInputValue;
}
