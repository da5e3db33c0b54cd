/**
 * An SSO configuration row written straight into the database, for tests of
 * what other capabilities do when a tenant has SSO (discovery, Enforce SSO,
 * invitations). It is never used to sign in: the issuer is unreachable.
 */
import type { Db } from '../src/db/db.ts';

export async function seedSsoConfig(db: Db, tenantId: string, input: { name: string; enforce?: boolean }, now = Date.now()): Promise<void> {
  await db.run(
    `INSERT INTO sso_configs (tenant_id, name, issuer, discovered_issuer, client_id, client_secret_enc, scopes,
       claim_email, claim_first_name, claim_last_name, enforce, verified_at, metadata, metadata_fetched_at, updated_at)
     VALUES ($1, $2, $3, $3, 'client', NULL, 'openid profile email', 'email', 'given_name', 'family_name', $4, $5, '{}', $5, $5)`,
    [tenantId, input.name, 'https://idp.invalid', input.enforce ? 1 : 0, now],
  );
}

/** Turns Enforce SSO on or off for a tenant that has a configuration. */
export async function setEnforce(db: Db, tenantId: string, enforce: boolean): Promise<void> {
  await db.run('UPDATE sso_configs SET enforce = $1 WHERE tenant_id = $2', [enforce ? 1 : 0, tenantId]);
}
