import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';

/** argon2id at OWASP's recommended floor: 19 MiB, 2 passes, 1 lane. */
export const ARGON2_PARAMS = { memory: 19_456, passes: 2, parallelism: 1, tagLength: 32 } as const;
export const MIN_PASSWORD_LENGTH = 12;
/** Long enough for any passphrase, short enough that hashing it is not a denial of service. */
export const MAX_PASSWORD_LENGTH = 256;

interface Argon2Params {
  memory: number;
  passes: number;
  parallelism: number;
  tagLength: number;
}

/**
 * At most one hash per core at a time; the rest wait here, not in libuv's
 * queue. Hashes are CPU-bound, so more at once only share the cores (and
 * their caches: each walks 19 MiB) and finish later. And libuv's pool (4
 * threads) stays free for its other work, DNS lookups of IdPs included,
 * which would otherwise queue behind every hash of a password flood.
 */
const HASH_SLOTS = availableParallelism();
let hashing = 0;
const waiting: (() => void)[] = [];

async function derive(password: string, nonce: Buffer, params: Argon2Params): Promise<Buffer> {
  if (hashing < HASH_SLOTS) hashing++;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    // crypto.argon2 runs on libuv's thread pool: the event loop keeps serving.
    return await new Promise((resolve, reject) =>
      argon2('argon2id', { message: password, nonce, ...params }, (error, key) => (error ? reject(error) : resolve(key))),
    );
  } finally {
    // The slot passes straight to the next waiter, if any.
    const next = waiting.shift();
    if (next) next();
    else hashing--;
  }
}

/** Hashes a password into a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`). */
export async function hashPassword(password: string): Promise<string> {
  const nonce = randomBytes(16);
  const key = await derive(password, nonce, ARGON2_PARAMS);
  const { memory: m, passes: t, parallelism: p } = ARGON2_PARAMS;
  return `$argon2id$v=19$m=${m},t=${t},p=${p}$${nonce.toString('base64url')}$${key.toString('base64url')}`;
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

/**
 * Checks a password against a stored hash in constant time. With no stored
 * hash (unknown user, SSO-only user) it still spends one full hash, so the
 * answer takes as long as for a real account and timing reveals nothing.
 */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const match = stored ? PHC.exec(stored) : null;
  if (!match) {
    await derive(password, DUMMY_NONCE, ARGON2_PARAMS);
    return false;
  }
  const [, m, t, p, salt, hash] = match as unknown as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'), {
    memory: Number(m),
    passes: Number(t),
    parallelism: Number(p),
    tagLength: expected.length,
  });
  return timingSafeEqual(actual, expected);
}

const DUMMY_NONCE = randomBytes(16);
