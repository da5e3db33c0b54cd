import { createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, hkdfSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, type JWK, type JWTPayload } from 'jose';
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
  /** Secret keys derived from this one, by purpose. */
  readonly macKeys: Map<string, KeyObject>;
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

const encodeJson = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

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
            macKeys: new Map(),
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
    const key = await this.#activeKey();
    const payload: JWTPayload = { ...claims, iss: this.#issuer, iat: Math.floor(this.#clock.now() / 1000) };
    if (expiresAt !== null) payload.exp = Math.floor(expiresAt / 1000);
    const signed = `${encodeJson({ alg: ALG, kid: key.kid, typ: 'JWT' })}.${encodeJson(payload)}`;
    // A compact JWS (RFC 7515) signed with node:crypto's Ed25519, which is
    // deterministic: the very bytes jose's SignJWT makes, at a third of its CPU
    // (no WebCrypto job). Verification stays with jose (verify below).
    return { token: `${signed}.${sign(null, Buffer.from(signed), key.privateKey).toString('base64url')}`, kid: key.kid };
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
    const key = await this.#keyById(kid);
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

  /** The key that signs now, after looking for a newer one every few seconds. */
  async #activeKey(): Promise<LoadedKey> {
    if (this.#clock.now() - this.#loadedAt > RELOAD_EVERY_MS) await this.reload();
    if (!this.#active) throw new Error('no signing key loaded');
    return this.#active;
  }

  /** A stored key by id; an unknown id may be a key another process just added. */
  async #keyById(kid: string): Promise<LoadedKey | undefined> {
    const key = this.#keys.get(kid);
    if (key || this.#clock.now() - this.#loadedAt <= UNKNOWN_KID_RELOAD_MS) return key;
    await this.reload();
    return this.#keys.get(kid);
  }

  /**
   * A secret key for MACs over values that only servers sharing this database
   * read back (the SSO state), derived from a signing key with HKDF; each
   * `purpose` gets its own, so one use's MAC is never valid for another. The
   * active key's when `kid` is omitted, else that key's, or undefined when no
   * stored key has that id. It lives and rotates with its signing key, and is
   * never published.
   */
  async macKey(purpose: string): Promise<{ kid: string; key: KeyObject }>;
  async macKey(purpose: string, kid: string): Promise<{ kid: string; key: KeyObject } | undefined>;
  async macKey(purpose: string, kid?: string): Promise<{ kid: string; key: KeyObject } | undefined> {
    const key = kid === undefined ? await this.#activeKey() : await this.#keyById(kid);
    if (!key) return undefined;
    let mac = key.macKeys.get(purpose);
    if (!mac) {
      // The Ed25519 seed is 32 uniformly random bytes: keying material HKDF can expand.
      const seed = Buffer.from(key.privateKey.export({ format: 'jwk' }).d!, 'base64url');
      mac = createSecretKey(Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(0), `jams-imes mac: ${purpose}`, 32)));
      key.macKeys.set(purpose, mac);
    }
    return { kid: key.kid, key: mac };
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
