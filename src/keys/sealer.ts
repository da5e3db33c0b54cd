import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { MasterKeySource } from './master-key.ts';

/**
 * Encrypts secrets at rest with AES-256-GCM under the master key.
 *
 * A sealed value is `<key version>.<iv>.<ciphertext>.<tag>` (base64url), so
 * every ciphertext names the key that opens it. The `context` (for example
 * `sso_client_secret:<tenant id>`) is bound in as associated data: a
 * ciphertext copied into another tenant's row, or another column, fails to
 * open instead of leaking there.
 */
export interface Sealer {
  seal(plaintext: string, context: string): Promise<string>;
  open(sealed: string, context: string): Promise<string>;
  /** The key version a sealed value was made with. */
  versionOf(sealed: string): string;
  /** The version new values are sealed under. */
  currentVersion(): Promise<string>;
}

export class SealError extends Error {
  override name = 'SealError';
}

export function createSealer(source: MasterKeySource): Sealer {
  // node:crypto checks a raw key on every use (a few times the cost of the
  // AES-GCM itself for short values); a KeyObject is checked once.
  const keyObjects = new WeakMap<Buffer, KeyObject>();
  const keyObject = (key: Buffer) => {
    let object = keyObjects.get(key);
    if (!object) keyObjects.set(key, (object = createSecretKey(key)));
    return object;
  };
  return {
    async seal(plaintext, context) {
      const { version, key } = await source.current();
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keyObject(key), iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [version, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    async open(sealed, context) {
      const [version, iv, body, tag] = sealed.split('.');
      if (!version || iv === undefined || body === undefined || tag === undefined) throw new SealError('malformed sealed value');
      const master = await source.byVersion(version);
      if (!master) throw new SealError(`master key version ${version} is not configured`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', keyObject(master.key), Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(context));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new SealError(`sealed value does not open under master key ${version}`);
      }
    },
    versionOf: (sealed) => sealed.slice(0, sealed.indexOf('.')),
    currentVersion: async () => (await source.current()).version,
  };
}
