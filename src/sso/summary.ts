import type { Db } from '../db/db.ts';

/** What other capabilities need to know of a tenant's SSO: its button label and whether passwords are off. */
export async function ssoSummary(db: Db, tenantId: string): Promise<{ name: string; enforce: boolean } | undefined> {
  const row = await db.one<{ name: string; enforce: number }>('SELECT name, enforce FROM sso_configs WHERE tenant_id = $1', [tenantId]);
  return row && { name: row.name, enforce: row.enforce === 1 };
}

/** Where a browser goes to sign in to a tenant through its IdP. */
export function ssoStartUrl(slug: string, loginHint?: string): string {
  const query = new URLSearchParams({ tenant: slug });
  if (loginHint) query.set('login_hint', loginHint);
  return `/auth/sso/start?${query}`;
}

/**
 * Break-glass (SPEC 3.3): turns Enforce SSO off for a tenant whose admins are
 * locked out, so password sign-in works again. Answers false when the tenant
 * has no SSO configuration.
 */
export async function disableEnforcement(db: Db, tenantId: string, now: number): Promise<boolean> {
  return (await db.run('UPDATE sso_configs SET enforce = 0, updated_at = $1 WHERE tenant_id = $2', [now, tenantId])) > 0;
}
