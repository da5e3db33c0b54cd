import type { Context } from '../context.ts';
import type { Db } from '../db/db.ts';
import { AppError } from '../errors/catalogue.ts';
import { checkMetadata, discover, normalizeIssuer, warningsFor, type IdpMetadata, type Warning } from './discovery.ts';

const DEFAULT_SCOPES = 'openid profile email';
const DEFAULT_CLAIMS = { email: 'email', firstName: 'given_name', lastName: 'family_name' } as const;

/** A tenant's SSO configuration as stored. */
export interface ConfigRow {
  tenant_id: string;
  name: string;
  /** The issuer as the admin typed it, normalised. */
  issuer: string;
  /** The issuer exactly as the IdP reports it: what ID tokens are checked against. */
  discovered_issuer: string;
  client_id: string;
  client_secret_enc: string | null;
  scopes: string;
  claim_email: string;
  claim_first_name: string;
  claim_last_name: string;
  enforce: number;
  verified_at: number | null;
  metadata: string;
  metadata_fetched_at: number;
  updated_at: number;
}

/** The configuration as the admin API shows it (SPEC 8.2): never the secret, only whether there is one. */
export interface ConfigView {
  name: string;
  issuer: string;
  clientId: string;
  hasClientSecret: boolean;
  scopes: string;
  claims: { email: string; firstName: string; lastName: string };
  enforce: boolean;
  verified: boolean;
  updatedAt: string;
}

export interface ConfigInput {
  name: string;
  issuer: string;
  clientId: string;
  /** Omitted or `""` keeps the stored secret; `null` removes it (a public client). */
  clientSecret?: string | null;
  scopes?: string;
  claims?: { email?: string; firstName?: string; lastName?: string };
  enforce?: boolean;
}

export const secretContext = (tenantId: string) => `sso_client_secret:${tenantId}`;

export async function loadConfigRow(db: Db, tenantId: string): Promise<ConfigRow | undefined> {
  return db.one<ConfigRow>('SELECT * FROM sso_configs WHERE tenant_id = $1', [tenantId]);
}

/** A tenant's id and SSO configuration by the tenant's slug, in one query (the start of every sign-in); undefined for no such tenant. */
export async function loadConfigBySlug(db: Db, slug: string): Promise<{ tenantId: string; row: ConfigRow | undefined } | undefined> {
  const found = await db.one<ConfigRow & { tenant_key: string }>(
    'SELECT t.id AS tenant_key, c.* FROM tenants t LEFT JOIN sso_configs c ON c.tenant_id = t.id WHERE t.slug = $1',
    [slug],
  );
  if (!found) return undefined;
  return { tenantId: found.tenant_key, row: found.tenant_id === null ? undefined : found };
}

function view(row: ConfigRow): ConfigView {
  return {
    name: row.name,
    issuer: row.issuer,
    clientId: row.client_id,
    hasClientSecret: row.client_secret_enc !== null,
    scopes: row.scopes,
    claims: { email: row.claim_email, firstName: row.claim_first_name, lastName: row.claim_last_name },
    enforce: row.enforce === 1,
    verified: row.verified_at !== null,
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** The tenant's configuration for the admin page, or null. */
export async function getConfig(ctx: Context, tenantId: string): Promise<ConfigView | null> {
  const row = await loadConfigRow(ctx.db, tenantId);
  return row ? view(row) : null;
}

/** The Redirect URI to register at the IdP: one for every tenant (SPEC 3). */
export const redirectUri = (ctx: Context) => `${ctx.config.publicUrl}/auth/sso/callback`;

function required(value: string, field: string): string {
  const trimmed = value.trim();
  if (!trimmed) throw new AppError('invalid_body', { field }, `${field} must not be blank.`);
  return trimmed;
}

/**
 * Saves (replaces) a tenant's configuration (SPEC 3.1). The issuer is
 * normalised and validated by discovery before anything is written; a
 * refusal writes nothing. Enforce SSO can be switched on only while an admin
 * has signed in through this issuer and client ID (SPEC 3.3): changing either
 * clears that proof, so a request that changes them and keeps Enforce SSO on
 * is refused as a whole, before any call to the IdP.
 */
export async function saveConfig(
  ctx: Context,
  tenantId: string,
  input: ConfigInput,
): Promise<{ config: ConfigView; issuerNormalized?: string; warnings: Warning[] }> {
  const name = required(input.name, 'name');
  const clientId = required(input.clientId, 'clientId');
  const scopes = input.scopes?.trim() || DEFAULT_SCOPES;
  if (!scopes.split(/\s+/).includes('openid')) throw new AppError('scopes_missing_openid');
  const claims = {
    email: input.claims?.email?.trim() || DEFAULT_CLAIMS.email,
    firstName: input.claims?.firstName?.trim() || DEFAULT_CLAIMS.firstName,
    lastName: input.claims?.lastName?.trim() || DEFAULT_CLAIMS.lastName,
  };
  const issuer = normalizeIssuer(input.issuer);
  const enforce = input.enforce ?? false;

  const existing = await loadConfigRow(ctx.db, tenantId);
  const sameIdentity = existing !== undefined && existing.issuer === issuer && existing.client_id === clientId;
  const verifiedAt = sameIdentity ? existing.verified_at : null;
  if (enforce && verifiedAt === null) throw new AppError('enforce_requires_verified_sso');

  const metadata = await discover(issuer, ctx.config.ssoTimeoutMs);

  let secret = existing?.client_secret_enc ?? null;
  const typedSecret = input.clientSecret === null ? null : input.clientSecret?.trim();
  if (typedSecret === null) secret = null;
  else if (typedSecret) secret = await ctx.sealer.seal(typedSecret, secretContext(tenantId));

  const now = ctx.clock.now();
  await ctx.db.run(
    `INSERT INTO sso_configs (tenant_id, name, issuer, discovered_issuer, client_id, client_secret_enc, scopes, claim_email,
       claim_first_name, claim_last_name, enforce, verified_at, metadata, metadata_fetched_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
     ON CONFLICT (tenant_id) DO UPDATE SET name = excluded.name, issuer = excluded.issuer,
       discovered_issuer = excluded.discovered_issuer, client_id = excluded.client_id,
       client_secret_enc = excluded.client_secret_enc, scopes = excluded.scopes, claim_email = excluded.claim_email,
       claim_first_name = excluded.claim_first_name, claim_last_name = excluded.claim_last_name, enforce = excluded.enforce,
       verified_at = excluded.verified_at, metadata = excluded.metadata, metadata_fetched_at = excluded.metadata_fetched_at,
       updated_at = excluded.updated_at`,
    [
      tenantId,
      name,
      issuer,
      metadata.issuer,
      clientId,
      secret,
      scopes,
      claims.email,
      claims.firstName,
      claims.lastName,
      enforce ? 1 : 0,
      verifiedAt,
      JSON.stringify(metadata),
      now,
    ],
  );
  const saved = (await loadConfigRow(ctx.db, tenantId))!;
  ctx.log.info({ tenantId, issuer, enforce }, 'sso configuration saved');
  return {
    config: view(saved),
    ...(issuer !== input.issuer ? { issuerNormalized: issuer } : {}),
    warnings: warningsFor(issuer, scopes, metadata),
  };
}

/** Removes the tenant's SSO: no more SSO sign-in, and Enforce SSO goes with it. */
export async function deleteConfig(ctx: Context, tenantId: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    await tx.run('DELETE FROM sso_states WHERE tenant_id = $1', [tenantId]);
    await tx.run('DELETE FROM sso_configs WHERE tenant_id = $1', [tenantId]);
  });
  ctx.log.info({ tenantId }, 'sso configuration deleted');
}

/**
 * Records that an admin completed an SSO sign-in through this issuer and
 * client ID, which allows Enforce SSO (SPEC 3.3). Conditional on both, so a
 * sign-in that raced an edit of the configuration proves nothing about the new one.
 */
export async function markVerified(ctx: Context, tenantId: string, discoveredIssuer: string, clientId: string): Promise<void> {
  await ctx.db.run(
    'UPDATE sso_configs SET verified_at = $1 WHERE tenant_id = $2 AND discovered_issuer = $3 AND client_id = $4 AND verified_at IS NULL',
    [ctx.clock.now(), tenantId, discoveredIssuer, clientId],
  );
}

/** Stored metadata is refetched once it is older than this (SPEC 3.1: caching). */
const METADATA_MAX_AGE_MS = 60 * 60 * 1000;

/** Whether the stored metadata is old enough to be fetched again. */
export const metadataIsStale = (ctx: Context, row: ConfigRow) => ctx.clock.now() - row.metadata_fetched_at >= METADATA_MAX_AGE_MS;

/**
 * The tenant's IdP metadata, refetched when stale. It must still report the
 * issuer saved with the configuration: an IdP that changes its issuer needs
 * an admin to re-save, not a silent switch. Any failure is `sso_discovery_failed`.
 */
export async function currentMetadata(ctx: Context, row: ConfigRow): Promise<IdpMetadata> {
  const stale = metadataIsStale(ctx, row);
  let metadata: IdpMetadata;
  try {
    metadata = stale ? await discover(row.issuer, ctx.config.ssoTimeoutMs) : checkMetadata(row.issuer, JSON.parse(row.metadata));
  } catch (error) {
    if (!(error instanceof AppError) && !(error instanceof SyntaxError)) throw error;
    ctx.log.warn({ tenantId: row.tenant_id, reason: error instanceof AppError ? error.code : 'stored metadata is not JSON' }, 'sso metadata unusable');
    throw new AppError('sso_discovery_failed');
  }
  if (metadata.issuer !== row.discovered_issuer) {
    ctx.log.warn({ tenantId: row.tenant_id }, 'sso metadata reports another issuer; re-save the configuration');
    throw new AppError('sso_discovery_failed');
  }
  if (stale) {
    // Only over the configuration it was fetched for: an edit saved meanwhile wins.
    await ctx.db.run('UPDATE sso_configs SET metadata = $1, metadata_fetched_at = $2 WHERE tenant_id = $3 AND updated_at = $4', [
      JSON.stringify(metadata),
      ctx.clock.now(),
      row.tenant_id,
      row.updated_at,
    ]);
  }
  return metadata;
}
