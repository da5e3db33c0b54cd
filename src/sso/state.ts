import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Context } from '../context.ts';
import type { Db } from '../db/db.ts';

/** The cookie that binds a sign-in to the browser that started it. */
export const BINDING_COOKIE = 'jams_sso_binding';
/** A sign-in must come back within 5 minutes (SPEC 4). */
export const STATE_TTL_MS = 5 * 60 * 1000;

/** How often expired states are cleared: they are refused anyway, so this only bounds the table's size. */
const PRUNE_EVERY_MS = 60 * 1000;
const prunedAt = new WeakMap<Db, number>();

const BINDING_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** What the state's MAC key is derived for (see KeyRing.macKey). */
const STATE_MAC = 'sso_state';

/** What the start of a sign-in leaves for its callback. Never leaves the server except sealed. */
export interface PendingSignIn {
  tenantId: string;
  /** The issuer the browser was sent to, exactly as the IdP reports it. */
  issuer: string;
  codeVerifier: string;
  nonce: string;
  returnTo: string | null;
}

interface StateRow {
  id: string;
  tenant_id: string;
  issuer: string;
  binding_hash: string;
  code_verifier_enc: string;
  nonce: string;
  return_to: string | null;
  expires_at: number;
}

/** What the state names, under its MAC. */
interface StateClaims {
  /** The stored row. */
  sid: string;
  tid: string;
  /** The issuer the browser was sent to. */
  idp: string;
}

const hash = (value: string) => createHash('sha256').update(value).digest();
const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const mac = (key: KeyObject, signed: string) => createHmac('sha256', key).update(signed).digest('base64url');
/** The associated data a sign-in's PKCE verifier is sealed with. */
export const verifierContext = (stateId: string) => `sso_state:${stateId}`;

/**
 * The browser's binding secret: the one it already holds, so that sign-ins
 * started in two tabs both complete, or a fresh one.
 */
export function bindingFor(cookie: string | undefined): string {
  return cookie !== undefined && BINDING_SHAPE.test(cookie) ? cookie : randomBytes(32).toString('base64url');
}

/**
 * Stores a pending sign-in and answers the `state` parameter for it: a JWT
 * naming the stored row, the tenant and the issuer, signed with HMAC-SHA256
 * under a key derived from our signing key, so every instance sharing the
 * database can check it and nobody else can make one. Only our servers read
 * it back, so a MAC serves where a public-key signature would cost ten times
 * the CPU. The database keeps only a hash of the browser's binding secret and
 * the PKCE verifier sealed, so a copy of the table cannot finish anyone's
 * sign-in.
 */
export async function issueState(ctx: Context, pending: PendingSignIn, binding: string): Promise<string> {
  const id = randomUUID();
  const now = ctx.clock.now();
  const expiresAt = now + STATE_TTL_MS;
  // Expired rows are useless; clearing them now and then keeps the table small without a timer.
  if (now - (prunedAt.get(ctx.db) ?? -Infinity) >= PRUNE_EVERY_MS) {
    prunedAt.set(ctx.db, now);
    await ctx.db.run('DELETE FROM sso_states WHERE expires_at < $1', [now]);
  }
  await ctx.db.run(
    `INSERT INTO sso_states (id, tenant_id, issuer, binding_hash, code_verifier_enc, nonce, return_to, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      id,
      pending.tenantId,
      pending.issuer,
      hash(binding).toString('base64url'),
      await ctx.sealer.seal(pending.codeVerifier, verifierContext(id)),
      pending.nonce,
      pending.returnTo,
      expiresAt,
    ],
  );
  const { kid, key } = await ctx.keys.macKey(STATE_MAC);
  const claims: StateClaims = { sid: id, tid: pending.tenantId, idp: pending.issuer };
  const signed = `${encode({ alg: 'HS256', kid })}.${encode(claims)}`;
  return `${signed}.${mac(key, signed)}`;
}

/** The claims of a state whose MAC holds, else undefined. */
async function readState(ctx: Context, state: string): Promise<StateClaims | undefined> {
  const parts = state.split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, given] = parts as [string, string, string];
  try {
    const { alg, kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: unknown; kid?: unknown };
    if (alg !== 'HS256' || typeof kid !== 'string') return undefined;
    const key = await ctx.keys.macKey(STATE_MAC, kid);
    if (!key) return undefined;
    // Compared as the encoded text, so a MAC has one spelling; in constant time (the length is no secret).
    const expected = Buffer.from(mac(key.key, `${header}.${payload}`));
    const presented = Buffer.from(given);
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Partial<StateClaims>;
    return typeof claims.sid === 'string' && typeof claims.tid === 'string' && typeof claims.idp === 'string' ? (claims as StateClaims) : undefined;
  } catch {
    return undefined;
  }
}

/** The outcome of presenting a state: the pending sign-in, or a refusal that may know the tenant. */
export type ConsumedState = { ok: true; pending: PendingSignIn } | { ok: false; tenantId: string | undefined };

/**
 * Consumes a state (SPEC 4, step 1). Valid only when our MAC holds, the
 * row still exists, it has not expired, and the browser presents the binding
 * secret it was issued to. The row is deleted before any other check, so a
 * state works once even when instances race for it: whoever deletes the row
 * wins, and a leaked callback URL cannot be replayed.
 */
export async function consumeState(ctx: Context, state: string, binding: string | undefined): Promise<ConsumedState> {
  const claims = await readState(ctx, state);
  if (!claims) return { ok: false, tenantId: undefined };
  const tenantId = claims.tid;
  const row = await ctx.db.one<StateRow>('DELETE FROM sso_states WHERE id = $1 AND tenant_id = $2 RETURNING *', [claims.sid, tenantId]);
  if (!row || row.issuer !== claims.idp || row.expires_at <= ctx.clock.now()) return { ok: false, tenantId };
  // Bound to the browser: a callback URL carried to another browser (login
  // CSRF, a phished link) lacks the cookie. Compared in constant time.
  if (binding === undefined || !timingSafeEqual(hash(binding), Buffer.from(row.binding_hash, 'base64url'))) {
    return { ok: false, tenantId };
  }
  return {
    ok: true,
    pending: {
      tenantId,
      issuer: row.issuer,
      codeVerifier: await ctx.sealer.open(row.code_verifier_enc, verifierContext(row.id)),
      nonce: row.nonce,
      returnTo: row.return_to,
    },
  };
}
