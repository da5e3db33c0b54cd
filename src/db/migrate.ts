import type { Db } from './db.ts';
import initial from './migrations/001_initial.ts';
import ssoSubjectIndex from './migrations/002_sso_subject_index.ts';

/** Every migration in order. Append only: ids and texts of merged ones never change. */
const migrations: readonly { id: string; sql: string }[] = [
  { id: '001_initial', sql: initial },
  { id: '002_sso_subject_index', sql: ssoSubjectIndex },
];

/**
 * Applies the migrations this database has not seen. Safe to run from several
 * instances at once: they take turns under {@link Db.exclusive}.
 */
export async function migrate(db: Db, now = Date.now()): Promise<string[]> {
  return db.exclusive(async (tx) => {
    await tx.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)');
    const done = new Set((await tx.all<{ id: string }>('SELECT id FROM schema_migrations')).map((row) => row.id));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      await tx.exec(migration.sql);
      await tx.run('INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)', [migration.id, now]);
      applied.push(migration.id);
    }
    return applied;
  });
}
