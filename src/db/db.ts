/**
 * The one database handle. SQL is written once, with PostgreSQL-style `$1`
 * placeholders, in the subset both engines share; each engine adapts it.
 */
export interface Db {
  readonly engine: 'sqlite' | 'postgres';
  /** All rows of a query. */
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** The first row of a query, or undefined. */
  one<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** Runs a statement and answers how many rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /**
   * Runs `fn` in a transaction: committed when it resolves, rolled back when
   * it throws. Queries inside must go through the handle `fn` receives.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` while holding a lock that every process sharing the database
   * respects (migrations, first-run setup).
   */
  exclusive<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Opens the database named by `databaseUrl`, or the embedded one in `dataDir`. */
export async function openDb(options: { databaseUrl?: string | undefined; sqlitePath: string; schema?: string }): Promise<Db> {
  if (options.databaseUrl) {
    const { openPostgres } = await import('./postgres.ts');
    return openPostgres(options.databaseUrl, options.schema);
  }
  const { openSqlite } = await import('./sqlite.ts');
  return openSqlite(options.sqlitePath);
}
