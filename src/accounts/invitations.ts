import { randomUUID } from 'node:crypto';
import type { Context } from '../context.ts';
import { AppError } from '../errors/catalogue.ts';
import { ssoStartUrl, ssoSummary } from '../sso/summary.ts';
import { parseEmail } from './email.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from './passwords.ts';
import { findUserByEmail, getTenant, insertUser, toUser, type Role, type Tenant, type User } from './tenants.ts';
import { hashSecretToken, newSecretToken } from './tokens.ts';

/** An invitation link is valid for 7 days (SPEC 5). */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export interface Invitation {
  id: string;
  email: string;
  role: Role;
  expiresAt: string;
}

interface InvitationRow {
  id: string;
  tenant_id: string;
  email: string;
  role: Role;
  expires_at: number;
}

const view = (row: InvitationRow): Invitation => ({
  id: row.id,
  email: row.email,
  role: row.role,
  expiresAt: new Date(row.expires_at).toISOString(),
});

export const inviteUrl = (ctx: Context, token: string) => `${ctx.config.publicUrl}/invite/${token}`;

/**
 * Invites an email into a tenant. Re-inviting a pending email replaces its
 * link (the old one stops working); inviting a member is refused.
 */
export async function createInvitation(
  ctx: Context,
  tenantId: string,
  input: { email: string; role: Role; invitedBy: string | null },
): Promise<{ invitation: Invitation; inviteUrl: string; emailed: boolean }> {
  const email = parseEmail(input.email);
  const { token, hash } = newSecretToken();
  const now = ctx.clock.now();
  const row: InvitationRow = { id: randomUUID(), tenant_id: tenantId, email, role: input.role, expires_at: now + INVITATION_TTL_MS };
  await ctx.db.transaction(async (tx) => {
    if (await findUserByEmail(tx, tenantId, email)) throw new AppError('already_member');
    await tx.run('DELETE FROM invitations WHERE tenant_id = $1 AND email = $2', [tenantId, email]);
    await tx.run(
      'INSERT INTO invitations (id, tenant_id, email, role, token_hash, invited_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [row.id, tenantId, email, input.role, hash, input.invitedBy, now, row.expires_at],
    );
  });
  const url = inviteUrl(ctx, token);
  const emailed = await sendInvitationMail(ctx, tenantId, email, url);
  return { invitation: view(row), inviteUrl: url, emailed };
}

async function sendInvitationMail(ctx: Context, tenantId: string, email: string, url: string): Promise<boolean> {
  if (!ctx.mailer) return false;
  const tenant = await getTenant(ctx.db, tenantId);
  try {
    await ctx.mailer.send({
      to: email,
      subject: `You're invited to ${tenant?.name ?? 'a team'} on JAMS IMES`,
      text: `You have been invited to join ${tenant?.name ?? 'a team'}.\n\nAccept within 7 days: ${url}\n\nIf you did not expect this, ignore this email.`,
    });
    return true;
  } catch (error) {
    // The admin still gets the link to pass on; the failure is logged without it.
    ctx.log.warn({ err: { message: (error as Error).message }, tenantId }, 'invitation email could not be sent');
    return false;
  }
}

export async function listInvitations(ctx: Context, tenantId: string): Promise<Invitation[]> {
  const rows = await ctx.db.all<InvitationRow>(
    'SELECT id, tenant_id, email, role, expires_at FROM invitations WHERE tenant_id = $1 AND expires_at > $2 ORDER BY created_at DESC',
    [tenantId, ctx.clock.now()],
  );
  return rows.map(view);
}

export async function revokeInvitation(ctx: Context, tenantId: string, id: string): Promise<void> {
  const deleted = await ctx.db.run('DELETE FROM invitations WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
  if (deleted === 0) throw new AppError('not_found');
}

async function findByToken(ctx: Context, token: string): Promise<(InvitationRow & { tenant: Tenant }) | undefined> {
  const row = await ctx.db.one<InvitationRow>(
    'SELECT id, tenant_id, email, role, expires_at FROM invitations WHERE token_hash = $1 AND expires_at > $2',
    [hashSecretToken(token), ctx.clock.now()],
  );
  const tenant = row && (await getTenant(ctx.db, row.tenant_id));
  return row && tenant && { ...row, tenant };
}

/** What the accept page shows before the invitee commits to anything. */
export async function describeInvitation(ctx: Context, token: string) {
  const found = await findByToken(ctx, token);
  if (!found) throw new AppError('invitation_invalid');
  const sso = await ssoSummary(ctx.db, found.tenant_id);
  return {
    email: found.email,
    role: found.role,
    tenant: { slug: found.tenant.slug, name: found.tenant.name },
    ssoEnforced: sso?.enforce ?? false,
    sso: sso ? { name: sso.name } : null,
  };
}

export type Acceptance =
  | { kind: 'signed_in'; user: User; tenant: Tenant; token: string; expiresAt: number }
  | { kind: 'redirect'; redirect: string };

/**
 * Accepts an invitation: creates the member and signs them in. When the
 * tenant enforces SSO there is no password step: the member is created
 * without one and sent to the IdP, whose first sign-in links the account.
 */
export async function acceptInvitation(
  ctx: Context,
  token: string,
  input: { firstName: string; lastName: string; password?: string | undefined },
): Promise<Acceptance> {
  const found = await findByToken(ctx, token);
  if (!found) throw new AppError('invitation_invalid');
  const sso = await ssoSummary(ctx.db, found.tenant_id);
  const enforced = sso?.enforce ?? false;
  let passwordHash: string | null = null;
  if (!enforced) {
    if (input.password === undefined) throw new AppError('invalid_body', { field: 'password' }, 'Choose a password.');
    if (input.password.length < MIN_PASSWORD_LENGTH) throw new AppError('weak_password');
    passwordHash = await hashPassword(input.password);
  }
  const user = await ctx.db.transaction(async (tx) => {
    // Deleting by hash is the single-use check: of two racing accepts, only
    // one deletes the row.
    const consumed = await tx.run('DELETE FROM invitations WHERE id = $1 AND token_hash = $2 AND expires_at > $3', [
      found.id,
      hashSecretToken(token),
      ctx.clock.now(),
    ]);
    if (consumed === 0) throw new AppError('invitation_invalid');
    return insertUser(
      tx,
      found.tenant_id,
      { email: found.email, firstName: input.firstName.trim(), lastName: input.lastName.trim(), role: found.role, passwordHash },
      ctx.clock.now(),
    );
  });
  if (enforced) return { kind: 'redirect', redirect: ssoStartUrl(found.tenant.slug, found.email) };
  const session = await ctx.sessions.create(found.tenant_id, user.id, 'password');
  return { kind: 'signed_in', user: toUser(user), tenant: found.tenant, ...session };
}
