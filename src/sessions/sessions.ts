import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/db.ts';
import type { KeyRing } from '../keys/signing-keys.ts';

/** A session lasts 8 hours (SPEC 2). */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** How often each instance reads revocations made by the others; the bound on how late it can honour one. */
export const REVOCATION_POLL_MS = 1_000;
/** Poll overlap: a revocation committed late (a slow transaction) is still read by the next poll. */
const POLL_OVERLAP_MS = 10_000;
const CACHE_LIMIT = 50_000;

export type SignInMethod = 'password' | 'sso';

/** Who a request acts for. */
export type Principal =
  | { kind: 'user'; tenantId: string; userId: string; sessionId: string; method: SignInMethod }
  | { kind: 'bot'; tenantId: string; botId: string };

interface Cached {
  principal: Principal;
  /** Token expiry in ms; `Infinity` for a bot token without expiry. */
  expiresAt: number;
}

/**
 * Sessions and bot tokens: issuing, authenticating and revoking.
 *
 * Authentication is on every request's path, and a signature check costs
 * several times a bare request. So a token whose signature has been verified
 * once is remembered (keyed by the whole token string, so nothing forged can
 * hit the cache), and later requests only check expiry and revocation, both
 * in memory. Revocation stays exact: a revocation made here is applied to the
 * in-memory set at once, and revocations made by other instances sharing the
 * database are read every second. Bot tokens are checked against the
 * database on every request, so a revoked bot is refused on its next call on
 * every instance.
 */
export class Sessions {
  readonly #db: Db;
  readonly #keys: KeyRing;
  readonly #clock: Clock;
  readonly #verified = new Map<string, Cached>();
  /** Revoked session ids, with their expiry (after which the entry is useless). */
  readonly #revoked = new Map<string, number>();
  #polledUntil = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(db: Db, keys: KeyRing, clock: Clock) {
    this.#db = db;
    this.#keys = keys;
    this.#clock = clock;
  }

  /** Loads current revocations and starts following other instances' ones. */
  async start(): Promise<void> {
    await this.syncRevocations();
    this.#timer = setInterval(() => void this.syncRevocations().catch(() => undefined), REVOCATION_POLL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Reads revocations recorded since the last read (also by other instances). */
  async syncRevocations(): Promise<void> {
    const startedAt = this.#clock.now();
    const rows = this.#polledUntil
      ? await this.#db.all<{ id: string; expires_at: number }>('SELECT id, expires_at FROM sessions WHERE revoked_at >= $1', [
          this.#polledUntil - POLL_OVERLAP_MS,
        ])
      : await this.#db.all<{ id: string; expires_at: number }>(
          'SELECT id, expires_at FROM sessions WHERE revoked_at IS NOT NULL AND expires_at > $1',
          [startedAt],
        );
    for (const row of rows) this.#revoked.set(row.id, row.expires_at);
    this.#polledUntil = startedAt;
    for (const [id, expiresAt] of this.#revoked) if (expiresAt <= startedAt) this.#revoked.delete(id);
  }

  /** Creates a session and its signed token. */
  async create(tenantId: string, userId: string, method: SignInMethod, db: Db = this.#db): Promise<{ token: string; expiresAt: number }> {
    const id = randomUUID();
    const now = this.#clock.now();
    const expiresAt = now + SESSION_TTL_MS;
    const { token, kid } = await this.#keys.sign({ typ: 'session', sub: userId, tid: tenantId, sid: id, amr: method }, expiresAt);
    await db.run(
      'INSERT INTO sessions (id, tenant_id, user_id, kid, method, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [id, tenantId, userId, kid, method, now, expiresAt],
    );
    return { token, expiresAt };
  }

  /**
   * Answers who a session or bot token acts for, or `null` when it is
   * invalid, expired or revoked.
   */
  async authenticate(token: string): Promise<Principal | null> {
    const now = this.#clock.now();
    const cached = this.#verified.get(token);
    if (cached) {
      if (cached.expiresAt <= now) {
        this.#verified.delete(token);
        return null;
      }
      return this.#stillValid(cached.principal);
    }
    const verified = await this.#keys.verify(token);
    if (!verified) return null;
    const principal = await this.#principalFrom(verified.payload);
    if (!principal) return null;
    if (this.#verified.size >= CACHE_LIMIT) {
      // Map iterates in insertion order: drop the oldest entry.
      const oldest = this.#verified.keys().next().value;
      if (oldest !== undefined) this.#verified.delete(oldest);
    }
    const exp = verified.payload.exp;
    this.#verified.set(token, { principal, expiresAt: exp === undefined ? Infinity : exp * 1000 });
    return principal;
  }

  async #stillValid(principal: Principal): Promise<Principal | null> {
    if (principal.kind === 'user') return this.#revoked.has(principal.sessionId) ? null : principal;
    return (await this.#botIsLive(principal.tenantId, principal.botId)) ? principal : null;
  }

  async #principalFrom(payload: Record<string, unknown>): Promise<Principal | null> {
    const { typ, sub, tid } = payload;
    if (typeof sub !== 'string' || typeof tid !== 'string') return null;
    if (typ === 'session') {
      const { sid } = payload;
      if (typeof sid !== 'string' || this.#revoked.has(sid)) return null;
      // First sight of this token on this instance: confirm it against the
      // database, so a revocation older than this process is honoured too.
      const row = await this.#db.one<{ revoked_at: number | null; method: SignInMethod }>(
        'SELECT revoked_at, method FROM sessions WHERE id = $1 AND tenant_id = $2 AND user_id = $3',
        [sid, tid, sub],
      );
      if (!row || row.revoked_at !== null) return null;
      return { kind: 'user', tenantId: tid, userId: sub, sessionId: sid, method: row.method };
    }
    if (typ === 'bot') {
      return (await this.#botIsLive(tid, sub)) ? { kind: 'bot', tenantId: tid, botId: sub } : null;
    }
    return null;
  }

  async #botIsLive(tenantId: string, botId: string): Promise<boolean> {
    const row = await this.#db.one<{ revoked_at: number | null; expires_at: number | null }>(
      'SELECT revoked_at, expires_at FROM bots WHERE id = $1 AND tenant_id = $2',
      [botId, tenantId],
    );
    return !!row && row.revoked_at === null && (row.expires_at === null || row.expires_at > this.#clock.now());
  }

  /** Ends one session (logout). */
  async revoke(tenantId: string, sessionId: string): Promise<void> {
    const now = this.#clock.now();
    await this.#db.run('UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 AND revoked_at IS NULL', [now, sessionId, tenantId]);
    this.#revoked.set(sessionId, now + SESSION_TTL_MS);
  }

  /** Ends every session of a user (deactivation). Runs inside the caller's transaction when given one. */
  async revokeAllForUser(tenantId: string, userId: string, db: Db = this.#db): Promise<void> {
    const now = this.#clock.now();
    const rows = await db.all<{ id: string; expires_at: number }>(
      'SELECT id, expires_at FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3',
      [tenantId, userId, now],
    );
    await db.run('UPDATE sessions SET revoked_at = $1 WHERE tenant_id = $2 AND user_id = $3 AND revoked_at IS NULL', [now, tenantId, userId]);
    for (const row of rows) this.#revoked.set(row.id, row.expires_at);
  }
}
