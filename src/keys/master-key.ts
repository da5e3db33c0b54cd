import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One version of the master key: 32 bytes for AES-256-GCM. */
export interface MasterKey {
  readonly version: string;
  readonly key: Buffer;
}

/**
 * Where master keys come from. The environment and a local key file are the
 * two sources today; a cloud KMS (Azure Key Vault, AWS KMS) implements the
 * same two calls and nothing else changes.
 */
export interface MasterKeySource {
  /** A short description for logs, never the key itself. */
  readonly description: string;
  /** The key new ciphertexts are sealed under. */
  current(): Promise<MasterKey>;
  /** The key of a version, or undefined when this source does not hold it. */
  byVersion(version: string): Promise<MasterKey | undefined>;
}

export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

const VERSION = /^v\d{1,6}$/;

/**
 * Parses `MASTER_KEY`: base64 of 32 bytes (taken as version `v1`), or several
 * comma-separated `version:base64` pairs, the first of which encrypts.
 */
export function parseMasterKeys(value: string): MasterKey[] {
  const parts = value.split(',').map((part) => part.trim()).filter(Boolean);
  if (parts.length === 0) throw new MasterKeyError('MASTER_KEY is empty.');
  const keys = parts.map((part) => {
    const colon = part.indexOf(':');
    const version = colon === -1 && parts.length === 1 ? 'v1' : part.slice(0, colon);
    const encoded = colon === -1 ? part : part.slice(colon + 1);
    if (!VERSION.test(version)) {
      throw new MasterKeyError('MASTER_KEY entries look like v2:<base64>,v1:<base64>; a version is "v" and a number.');
    }
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
      throw new MasterKeyError(`MASTER_KEY version ${version} must be the base64 of exactly 32 random bytes.`);
    }
    return { version, key };
  });
  if (new Set(keys.map((key) => key.version)).size !== keys.length) {
    throw new MasterKeyError('MASTER_KEY names the same version twice.');
  }
  return keys;
}

/** Formats keys the way {@link parseMasterKeys} reads them. */
export function formatMasterKeys(keys: readonly MasterKey[]): string {
  return keys.map((key) => `${key.version}:${key.key.toString('base64')}`).join(',');
}

/** A fresh random key one version above the highest of `keys`. */
export function nextMasterKey(keys: readonly MasterKey[]): MasterKey {
  const highest = Math.max(0, ...keys.map((key) => Number(key.version.slice(1))));
  return { version: `v${highest + 1}`, key: randomBytes(32) };
}

function fromList(keys: readonly MasterKey[], description: string): MasterKeySource {
  const first = keys[0];
  if (!first) throw new MasterKeyError('No master key.');
  return {
    description,
    current: async () => first,
    byVersion: async (version) => keys.find((key) => key.version === version),
  };
}

/** The keys held in `MASTER_KEY`. */
export function envMasterKeySource(value: string): MasterKeySource {
  return fromList(parseMasterKeys(value), 'MASTER_KEY');
}

/**
 * A key file in the data directory, for machines without `MASTER_KEY`
 * (development and trials). Created with mode 0600 on first use. Re-read when
 * asked for a version it does not hold, so that a running server picks up a
 * rotation the CLI wrote.
 */
export function fileMasterKeySource(dataDir: string, onCreate?: (file: string) => void): MasterKeySource {
  const file = path.join(dataDir, 'master.key');
  const read = (): MasterKey[] | undefined => {
    try {
      return parseMasterKeys(readFileSync(file, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };
  let keys = read();
  if (!keys) {
    mkdirSync(dataDir, { recursive: true });
    keys = [nextMasterKey([])];
    // 'wx' fails if another process created it meanwhile; then we read theirs.
    try {
      writeFileSync(file, `${formatMasterKeys(keys)}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
      onCreate?.(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      keys = read() ?? keys;
    }
  }
  let source = fromList(keys, file);
  return {
    description: file,
    current: () => source.current(),
    byVersion: async (version) => {
      const found = await source.byVersion(version);
      if (found) return found;
      const fresh = read();
      if (fresh) source = fromList(fresh, file);
      return source.byVersion(version);
    },
  };
}

/** Writes a new first version into the key file, keeping the old ones so that existing ciphertexts still open. */
export function addVersionToKeyFile(dataDir: string): MasterKey {
  const file = path.join(dataDir, 'master.key');
  const keys = parseMasterKeys(readFileSync(file, 'utf8'));
  const next = nextMasterKey(keys);
  writeFileSync(file, `${formatMasterKeys([next, ...keys])}\n`, { mode: 0o600 });
  return next;
}
