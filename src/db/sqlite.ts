import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { Db } from './db.ts';

/** How long a statement waits for another connection's write lock before it fails. */
const BUSY_TIMEOUT_MS = 5_000;
const BUSY_RETRY_MS = 5;

/** SQLITE_BUSY, or one of its extended codes: another connection holds the lock. */
const isBusy = (error: unknown) => ((((error as { errcode?: number } | null)?.errcode ?? 0) & 0xff) === 5);
const pause = () => new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_MS));

/**
 * The embedded engine. node:sqlite is synchronous and has one connection, so
 * an open transaction would otherwise swallow statements from unrelated
 * requests that run while it awaits; a queue keeps them outside it.
 *
 * SQLite's own busy timeout waits by sleeping the thread: the event loop
 * would stall while another process (the CLI) holds the write lock, and a
 * second connection in this process could never let the first one finish.
 * So busy_timeout is 0 and a locked statement is retried on a timer.
 */
export function openSqlite(file: string): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const database = new DatabaseSync(file);
  // Opening may wait the old way (nothing is served yet); afterwards, waits are timers.
  database.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;');
  database.exec('PRAGMA busy_timeout = 0');
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
  function serial<T>(fn: () => T | Promise<T>, deadline = Date.now() + BUSY_TIMEOUT_MS): Promise<T> {
    // Decided now, not in a later microtask: between this check and the
    // statement, no transaction can begin.
    if (!inTransaction) {
      try {
        return Promise.resolve(fn());
      } catch (error) {
        // Locked by another connection: decide afresh after the pause, as a
        // transaction of ours may have begun meanwhile.
        if (isBusy(error) && Date.now() < deadline) return pause().then(() => serial(fn, deadline));
        return Promise.reject(error);
      }
    }
    const next = queue.then(
      () => serial(fn, deadline),
      () => serial(fn, deadline),
    );
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
      // IMMEDIATE takes the write lock up front, so another process sharing
      // the file cannot interleave a write between our read and our write.
      const deadline = Date.now() + BUSY_TIMEOUT_MS;
      for (;;) {
        try {
          database.exec('BEGIN IMMEDIATE');
          // Set in the same synchronous step as BEGIN: no unrelated statement can slip in between.
          inTransaction = true;
          break;
        } catch (error) {
          if (!isBusy(error) || Date.now() >= deadline) throw error;
        }
        await pause();
      }
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
