import type { Context } from '../context.ts';
import type { Db } from '../db/db.ts';
import { revokeBotsCreatedBy } from '../bots/bots.ts';
import { AppError } from '../errors/catalogue.ts';
import { getUser, lockTenant, toUser, USER_COLUMNS, type Role, type User, type UserRow } from './tenants.ts';

export async function listMembers(ctx: Context, tenantId: string): Promise<User[]> {
  const rows = await ctx.db.all<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY created_at, email`, [tenantId]);
  return rows.map(toUser);
}

/**
 * Runs a membership change under the tenant's lock and refuses it when it
 * would leave the tenant without an active admin (`last_admin`). The lock
 * matters: two admins demoting each other at once must not both succeed.
 */
async function changeMember(
  ctx: Context,
  tenantId: string,
  userId: string,
  change: (tx: Db, user: UserRow) => Promise<void>,
  removesAdmin: (user: UserRow) => boolean,
): Promise<User> {
  return ctx.db.transaction(async (tx) => {
    await lockTenant(tx, tenantId);
    const user = await getUser(tx, tenantId, userId);
    if (!user) throw new AppError('not_found');
    if (removesAdmin(user)) {
      const admins = await tx.one<{ n: number }>(
        "SELECT count(*) AS n FROM users WHERE tenant_id = $1 AND role = 'admin' AND status = 'active'",
        [tenantId],
      );
      if (Number(admins?.n) <= 1) throw new AppError('last_admin');
    }
    await change(tx, user);
    return toUser((await getUser(tx, tenantId, userId))!);
  });
}

const isActiveAdmin = (user: UserRow) => user.role === 'admin' && user.status === 'active';

/** Deactivates a member: they cannot sign in, and their sessions and bot tokens end now. */
export function deactivateMember(ctx: Context, tenantId: string, userId: string): Promise<User> {
  return changeMember(
    ctx,
    tenantId,
    userId,
    async (tx) => {
      const now = ctx.clock.now();
      await tx.run("UPDATE users SET status = 'deactivated', updated_at = $1 WHERE tenant_id = $2 AND id = $3", [now, tenantId, userId]);
      await ctx.sessions.revokeAllForUser(tenantId, userId, tx);
      await revokeBotsCreatedBy(tx, tenantId, userId, now);
    },
    isActiveAdmin,
  );
}

export function reactivateMember(ctx: Context, tenantId: string, userId: string): Promise<User> {
  return changeMember(
    ctx,
    tenantId,
    userId,
    async (tx) => {
      await tx.run("UPDATE users SET status = 'active', updated_at = $1 WHERE tenant_id = $2 AND id = $3", [ctx.clock.now(), tenantId, userId]);
    },
    () => false,
  );
}

export function changeRole(ctx: Context, tenantId: string, userId: string, role: Role): Promise<User> {
  return changeMember(
    ctx,
    tenantId,
    userId,
    async (tx) => {
      await tx.run('UPDATE users SET role = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4', [role, ctx.clock.now(), tenantId, userId]);
    },
    (user) => role !== 'admin' && isActiveAdmin(user),
  );
}

/** Forgets the IdP identity linked to a member; their next SSO sign-in links afresh by email. */
export async function clearSsoIdentity(ctx: Context, tenantId: string, userId: string): Promise<void> {
  const changed = await ctx.db.run(
    'UPDATE users SET sso_issuer = NULL, sso_subject = NULL, updated_at = $1 WHERE tenant_id = $2 AND id = $3',
    [ctx.clock.now(), tenantId, userId],
  );
  if (changed === 0) throw new AppError('not_found');
}
