import { createHash, randomBytes } from 'node:crypto';

/**
 * A fresh bearer secret (invitation, setup link) and the hash we store. Only
 * the hash is kept, so a copy of the database cannot be turned into links.
 */
export function newSecretToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashSecretToken(token) };
}

/** SHA-256 is enough here: the tokens carry 256 random bits, nothing to brute-force. */
export function hashSecretToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
