import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/db.ts';
import type { Sealer } from './sealer.ts';

const ALG = 'EdDSA';
/** How often a running instance looks for a key that another process (the CLI) added. */
const RELOAD_EVERY_MS = 10_000;
/** Floor between reloads triggered by an unknown `kid`, so garbage tokens cannot hammer the database. */
const UNKNOWN_KID_RELOAD_MS = 1_000;

interface LoadedKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: JWK;
  readonly createdAt: number;
}

interface KeyRow {
  kid: string;
  public_jwk: string;
  private_key_enc: string;
  created_at: number;
}

export interface KeySummary {
  kid: string;
  alg: string;
  createdAt: number;
  active: boolean;
  /** Whether `/.well-known/jwks.json` still lists it: active, or some live token was signed with it. */
  published: boolean;
}

/** The associated data a private signing key is sealed with. */
export const signingKeyContext = (kid: string) => `signing_key:${kid}`;

/** Generates a signing key and stores it, its private half sealed under the master key. */
export async function addSigningKey(db: Db, sealer: Sealer, now: number): Promise<string> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = randomBytes(12).toString('base64url');
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: ALG, use: 'sig' };
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  await db.run('INSERT INTO signing_keys (kid, alg, public_jwk, private_key_enc, created_at) VALUES ($1, $2, $3, $4, $5)', [
    kid,
    ALG,
    JSON.stringify(publicJwk),
    await sealer.seal(pem, signingKeyContext(kid)),
    now,
  ]);
  return kid;
}

/**
 * The server's signing keys (sessions and bot tokens). The newest key signs;
 * every stored key verifies. Keys are generated on first start, never shipped.
 */
export class KeyRing {
  readonly #db: Db;
  readonly #sealer: Sealer;
  readonly #clock: Clock;
  readonly #issuer: string;
  #keys = new Map<string, LoadedKey>();
  #active: LoadedKey | undefined;
  #loadedAt = 0;
  #reloading: Promise<void> | undefined;

  private constructor(db: Db, sealer: Sealer, clock: Clock, issuer: string) {
    this.#db = db;
    this.#sealer = sealer;
    this.#clock = clock;
    this.#issuer = issuer;
  }

  /** Loads the keys, creating the first one when the database has none. */
  static async open(db: Db, sealer: Sealer, clock: Clock, issuer: string): Promise<KeyRing> {
    await db.exclusive(async (tx) => {
      const any = await tx.one('SELECT kid FROM signing_keys LIMIT 1');
      if (!any) await addSigningKey(tx, sealer, clock.now());
    });
    const ring = new KeyRing(db, sealer, clock, issuer);
    await ring.reload();
    return ring;
  }

  /** Re-reads the stored keys; picks up a rotation made by another process. */
  async reload(): Promise<void> {
    this.#reloading ??= (async () => {
      try {
        const rows = await this.#db.all<KeyRow>('SELECT kid, public_jwk, private_key_enc, created_at FROM signing_keys ORDER BY created_at, kid');
        const keys = new Map<string, LoadedKey>();
        for (const row of rows) {
          const known = this.#keys.get(row.kid);
          if (known) {
            keys.set(row.kid, known);
            continue;
          }
          const pem = await this.#sealer.open(row.private_key_enc, signingKeyContext(row.kid));
          const publicJwk = JSON.parse(row.public_jwk) as JWK;
          keys.set(row.kid, {
            kid: row.kid,
            privateKey: createPrivateKey(pem),
            publicKey: createPublicKey({ key: publicJwk as never, format: 'jwk' }),
            publicJwk,
            createdAt: row.created_at,
          });
        }
        this.#keys = keys;
        this.#active = [...keys.values()].at(-1);
        this.#loadedAt = this.#clock.now();
      } finally {
        this.#reloading = undefined;
      }
    })();
    return this.#reloading;
  }

  /** Signs claims with the active key; answers the token and the key id used. */
  async sign(claims: JWTPayload, expiresAt: number | null): Promise<{ token: string; kid: string }> {
    if (this.#clock.now() - this.#loadedAt > RELOAD_EVERY_MS) await this.reload();
    const key = this.#active;
    if (!key) throw new Error('no signing key loaded');
    const now = Math.floor(this.#clock.now() / 1000);
    const jwt = new SignJWT(claims).setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT' }).setIssuer(this.#issuer).setIssuedAt(now);
    if (expiresAt !== null) jwt.setExpirationTime(Math.floor(expiresAt / 1000));
    return { token: await jwt.sign(key.privateKey), kid: key.kid };
  }

  /**
   * Verifies a token's signature, issuer and expiry. An invalid token is an
   * ordinary result (`null`), not an exception.
   */
  async verify(token: string): Promise<{ payload: JWTPayload; kid: string } | null> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return null;
    }
    if (!kid) return null;
    let key = this.#keys.get(kid);
    if (!key && this.#clock.now() - this.#loadedAt > UNKNOWN_KID_RELOAD_MS) {
      await this.reload();
      key = this.#keys.get(kid);
    }
    if (!key) return null;
    try {
      const { payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [ALG],
        issuer: this.#issuer,
        currentDate: new Date(this.#clock.now()),
      });
      return { payload, kid };
    } catch {
      return null;
    }
  }

  /**
   * The public keys to publish: the active key, and every older key that some
   * unexpired, unrevoked session or bot token was signed with. A retired key
   * leaves the set only when its last token has expired.
   */
  async publicJwks(): Promise<{ keys: JWK[] }> {
    const now = this.#clock.now();
    const live = await this.#db.all<{ kid: string }>(
      `SELECT kid FROM sessions WHERE expires_at > $1 AND revoked_at IS NULL
       UNION SELECT kid FROM bots WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)`,
      [now],
    );
    const needed = new Set(live.map((row) => row.kid));
    if (this.#clock.now() - this.#loadedAt > RELOAD_EVERY_MS) await this.reload();
    return {
      keys: [...this.#keys.values()].filter((key) => key === this.#active || needed.has(key.kid)).reverse().map((key) => key.publicJwk),
    };
  }

  /** Lists keys for operators (`keys list`). */
  async summary(): Promise<KeySummary[]> {
    await this.reload();
    const published = new Set((await this.publicJwks()).keys.map((key) => key.kid));
    return [...this.#keys.values()].map((key) => ({
      kid: key.kid,
      alg: ALG,
      createdAt: key.createdAt,
      active: key === this.#active,
      published: published.has(key.kid),
    }));
  }
}
