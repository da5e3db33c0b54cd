import type { Context } from '../context.ts';
import { AppError } from '../errors/catalogue.ts';
import { ssoStartUrl } from '../sso/summary.ts';
import { normalizeEmail } from './email.ts';
import { verifyPassword } from './passwords.ts';
import { getUser, toUser, type Tenant, type User } from './tenants.ts';

interface Membership {
  user_id: string;
  tenant_id: string;
  slug: string;
  tenant_name: string;
  status: 'active' | 'deactivated';
  password_hash: string | null;
  sso_name: string | null;
  enforce: number | null;
}

/**
 * Every tenant an email belongs to. This is the one lookup that crosses
 * tenants, by design: sign-in starts from an email, before any tenant is known.
 */
async function memberships(ctx: Context, email: string): Promise<Membership[]> {
  return ctx.db.all<Membership>(
    `SELECT u.id AS user_id, u.tenant_id, t.slug, t.name AS tenant_name, u.status, u.password_hash,
            c.name AS sso_name, c.enforce
     FROM users u JOIN tenants t ON t.id = u.tenant_id LEFT JOIN sso_configs c ON c.tenant_id = u.tenant_id
     WHERE u.email = $1 ORDER BY t.name, t.slug`,
    [email],
  );
}

export interface SsoOption {
  tenant: { slug: string; name: string };
  name: string;
  startUrl: string;
}

/**
 * Which sign-in methods apply to an email (SPEC 2). An unknown email gets the
 * same answer as a password-only user, so discovery does not reveal who has
 * an account; only tenants with SSO are named, as the login page must offer
 * their button.
 */
export async function discover(ctx: Context, rawEmail: string): Promise<{ password: boolean; sso: SsoOption[] }> {
  const email = normalizeEmail(rawEmail);
  const rows = await memberships(ctx, email);
  if (rows.length === 0) return { password: true, sso: [] };
  const sso = rows
    .filter((row) => row.sso_name !== null)
    .map((row) => ({
      tenant: { slug: row.slug, name: row.tenant_name },
      name: row.sso_name!,
      startUrl: ssoStartUrl(row.slug, email),
    }));
  return { password: rows.some((row) => !row.enforce), sso };
}

/**
 * Password sign-in (SPEC 2). Wrong password, unknown email and a deactivated
 * account all fail alike, after the same hashing work, until the correct
 * password has been shown; only then may the answer be specific.
 */
export async function passwordSignIn(
  ctx: Context,
  input: { email: string; password: string; tenant?: string | undefined },
): Promise<{ user: User; tenant: Tenant; token: string; expiresAt: number }> {
  const email = normalizeEmail(input.email);
  let rows = await memberships(ctx, email);
  if (input.tenant !== undefined) rows = rows.filter((row) => row.slug === input.tenant);
  if (rows.length === 0) {
    await verifyPassword(input.password, null);
    throw new AppError('invalid_credentials');
  }
  const matched: Membership[] = [];
  for (const row of rows) {
    // Every candidate costs one hash whether or not it has a password, so
    // the time taken does not tell which kind of account this is.
    if (await verifyPassword(input.password, row.password_hash)) matched.push(row);
  }
  // Passwords are kept under Enforce SSO but refused; discovery already tells
  // anyone that this email signs in with SSO, so saying so here leaks nothing.
  const usable = matched.filter((row) => !row.enforce);
  if (usable.length === 0) {
    // While any of these tenants takes passwords, a wrong password must stay
    // invalid_credentials: that is what the per-email throttle counts.
    if (matched.length === 0 && rows.some((row) => !row.enforce)) throw new AppError('invalid_credentials');
    if (rows.some((row) => row.enforce)) throw new AppError('sso_enforced');
    throw new AppError(matched.length > 0 ? 'account_disabled' : 'invalid_credentials');
  }
  const active = usable.filter((row) => row.status === 'active');
  if (active.length === 0) throw new AppError('account_disabled');
  if (active.length > 1) {
    throw new AppError('tenant_choice_required', { tenants: active.map((row) => ({ slug: row.slug, name: row.tenant_name })) });
  }
  const chosen = active[0]!;
  const { token, expiresAt } = await ctx.sessions.create(chosen.tenant_id, chosen.user_id, 'password');
  const user = await getUser(ctx.db, chosen.tenant_id, chosen.user_id);
  return { user: toUser(user!), tenant: { id: chosen.tenant_id, slug: chosen.slug, name: chosen.tenant_name }, token, expiresAt };
}
