import { randomBytes } from 'node:crypto';
import type { Context } from '../context.ts';
import type { Db } from '../db/db.ts';
import type { SsoErrorCode } from '../errors/catalogue.ts';

/** How long attempts are kept for diagnostics. */
const KEEP_MS = 30 * 24 * 60 * 60 * 1000;
/** How often each tenant's old attempts are pruned. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;
/** When each tenant's were last pruned, per database. */
const prunedAt = new WeakMap<Db, Map<string, number>>();
/** How many the admin page shows. */
const LIST_LIMIT = 50;
const MAX_EMAIL_LENGTH = 320;

export interface Attempt {
  at: string;
  email: string | null;
  result: 'ok' | SsoErrorCode;
  ref: string;
}

let sequence = 0;

/**
 * Records one SSO sign-in attempt of a tenant (SPEC 3.4): the email the IdP
 * returned (if it got that far), the result code, and the correlation id the
 * user saw. Attempts older than 30 days are pruned on the way, at most
 * hourly per tenant.
 */
export async function recordAttempt(
  ctx: Context,
  tenantId: string,
  attempt: { email: string | null; result: Attempt['result']; ref: string },
): Promise<void> {
  const at = ctx.clock.now();
  // Sortable: attempts made in the same millisecond still list newest first.
  const id = `${String(at).padStart(15, '0')}-${String(sequence++).padStart(12, '0')}-${randomBytes(4).toString('hex')}`;
  let pruned = prunedAt.get(ctx.db);
  if (!pruned) prunedAt.set(ctx.db, (pruned = new Map()));
  if (at - (pruned.get(tenantId) ?? -Infinity) >= PRUNE_EVERY_MS) {
    pruned.set(tenantId, at);
    await ctx.db.run('DELETE FROM sso_attempts WHERE tenant_id = $1 AND at < $2', [tenantId, at - KEEP_MS]);
  }
  await ctx.db.run('INSERT INTO sso_attempts (id, tenant_id, at, email, result, ref) VALUES ($1, $2, $3, $4, $5, $6)', [
    id,
    tenantId,
    at,
    attempt.email?.slice(0, MAX_EMAIL_LENGTH) ?? null,
    attempt.result,
    attempt.ref,
  ]);
}

/** The tenant's recent attempts, newest first. */
export async function listAttempts(ctx: Context, tenantId: string): Promise<Attempt[]> {
  const rows = await ctx.db.all<{ at: number; email: string | null; result: Attempt['result']; ref: string }>(
    'SELECT at, email, result, ref FROM sso_attempts WHERE tenant_id = $1 ORDER BY at DESC, id DESC LIMIT $2',
    [tenantId, LIST_LIMIT],
  );
  return rows.map((row) => ({ at: new Date(row.at).toISOString(), email: row.email, result: row.result, ref: row.ref }));
}
