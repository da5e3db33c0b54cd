import type { Context } from '../context.ts';
import { AppError } from '../errors/catalogue.ts';
import { parseEmail } from './email.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from './passwords.ts';
import { createTenant, insertUser, toUser, type Tenant, type User } from './tenants.ts';
import { hashSecretToken, newSecretToken } from './tokens.ts';

/** A first-run setup link works once, within a day. */
export const SETUP_TTL_MS = 24 * 60 * 60 * 1000;

async function hasTenants(ctx: Context): Promise<boolean> {
  return !!(await ctx.db.one('SELECT id FROM tenants LIMIT 1'));
}

/**
 * When the database has no tenant at all, makes a one-time setup link for
 * the operator (printed at start, never logged). The token rides in the URL
 * fragment, so it never reaches a server log or a Referer header.
 */
export async function createSetupLink(ctx: Context): Promise<string | undefined> {
  if (await hasTenants(ctx)) return undefined;
  const { token, hash } = newSecretToken();
  const now = ctx.clock.now();
  await ctx.db.run('DELETE FROM setup_tokens WHERE expires_at <= $1', [now]);
  await ctx.db.run('INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES ($1, $2, $3)', [hash, now, now + SETUP_TTL_MS]);
  return `${ctx.config.publicUrl}/setup#${token}`;
}

/** Creates the first tenant and its admin from a setup link, and signs the admin in. */
export async function completeSetup(
  ctx: Context,
  input: { token: string; tenantName: string; tenantSlug: string; email: string; firstName: string; lastName: string; password: string },
): Promise<{ user: User; tenant: Tenant; token: string; expiresAt: number }> {
  const email = parseEmail(input.email);
  if (input.password.length < MIN_PASSWORD_LENGTH) throw new AppError('weak_password');
  const passwordHash = await hashPassword(input.password);
  const { tenant, user } = await ctx.db.exclusive(async (tx) => {
    if (await tx.one('SELECT id FROM tenants LIMIT 1')) throw new AppError('setup_done');
    const consumed = await tx.run('DELETE FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2', [
      hashSecretToken(input.token),
      ctx.clock.now(),
    ]);
    if (consumed === 0) throw new AppError('setup_token_invalid');
    const tenant = await createTenant(tx, { name: input.tenantName, slug: input.tenantSlug }, ctx.clock.now());
    const user = await insertUser(
      tx,
      tenant.id,
      { email, firstName: input.firstName.trim(), lastName: input.lastName.trim(), role: 'admin', passwordHash },
      ctx.clock.now(),
    );
    return { tenant, user };
  });
  const session = await ctx.sessions.create(tenant.id, user.id, 'password');
  return { user: toUser(user), tenant, ...session };
}
