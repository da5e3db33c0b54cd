import path from 'node:path';
import { MasterKeyError, parseMasterKeys } from './keys/master-key.ts';

/** Everything the server reads from its environment, read once and frozen. */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** External base URL without a trailing slash, e.g. `https://id.example.com`. */
  readonly publicUrl: string;
  /** `scheme://host[:port]` of {@link publicUrl}: what CSRF checks compare against. */
  readonly publicOrigin: string;
  /** True when {@link publicUrl} is https: cookies are then `Secure`. */
  readonly secureCookies: boolean;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** Raw `MASTER_KEY`; parsed by the master-key source, never logged. */
  readonly masterKey: string | undefined;
  readonly smtpUrl: string | undefined;
  readonly logLevel: string;
  readonly production: boolean;
  /** Sign-in requests (discover, password, accept, setup, SSO start) allowed per client IP per minute. */
  readonly signInPerIpPerMinute: number;
  /** Failed password attempts allowed per email per 15 minutes before it is throttled. */
  readonly failedSignInsPerEmail: number;
  /** Time budget for the calls to an IdP that one SSO step makes (discovery, token, JWKS, UserInfo). */
  readonly ssoTimeoutMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * Reads the configuration from an environment (SPEC 8.1). Throws
 * {@link ConfigError} with a sentence an operator can act on when a value is
 * unusable, so the process stops before it serves anything.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const port = parsePort(env.PORT?.trim() || '3000');
  const host = env.HOST?.trim() || '127.0.0.1';
  const publicUrl = parsePublicUrl(env.PUBLIC_URL?.trim() || `http://localhost:${port}`);
  const production = env.NODE_ENV === 'production';
  const masterKey = env.MASTER_KEY?.trim() || undefined;
  if (production && !masterKey) {
    throw new ConfigError(
      'MASTER_KEY is required when NODE_ENV=production. Generate one with ' +
        '`node -e "console.log(require(\'node:crypto\').randomBytes(32).toString(\'base64\'))"` ' +
        'and keep it in your secret store.',
    );
  }
  // Checked here, so that a mistyped key stops the server before it opens anything.
  if (masterKey) {
    try {
      parseMasterKeys(masterKey);
    } catch (error) {
      if (error instanceof MasterKeyError) throw new ConfigError(error.message);
      throw error;
    }
  }
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// URL; leave it unset for the embedded database.');
  }
  const smtpUrl = env.SMTP_URL?.trim() || undefined;
  if (smtpUrl && !/^smtps?:\/\//.test(smtpUrl)) {
    throw new ConfigError('SMTP_URL must look like smtp://user:pass@host:port.');
  }
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.has(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${[...LOG_LEVELS].join(', ')}.`);
  }
  const signInPerIpPerMinute = parseLimit('RATE_LIMIT_SIGNIN_PER_MINUTE', env.RATE_LIMIT_SIGNIN_PER_MINUTE, 120);
  const failedSignInsPerEmail = parseLimit('RATE_LIMIT_FAILED_SIGNINS_PER_EMAIL', env.RATE_LIMIT_FAILED_SIGNINS_PER_EMAIL, 10);
  const ssoTimeoutMs = parseLimit('SSO_TIMEOUT_MS', env.SSO_TIMEOUT_MS, 10_000);
  // A hanging IdP must fail a sign-in within 15 seconds (the browser is waiting).
  if (ssoTimeoutMs > 15_000) throw new ConfigError('SSO_TIMEOUT_MS must be at most 15000.');
  const origin = new URL(publicUrl);
  return Object.freeze({
    port,
    host,
    publicUrl,
    publicOrigin: origin.origin,
    secureCookies: origin.protocol === 'https:',
    databaseUrl,
    dataDir: path.resolve(env.DATA_DIR?.trim() || './data'),
    masterKey,
    smtpUrl,
    logLevel,
    production,
    signInPerIpPerMinute,
    failedSignInsPerEmail,
    ssoTimeoutMs,
  });
}

function parseLimit(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1) throw new ConfigError(`${name} must be a whole number of at least 1.`);
  return limit;
}

function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be a whole number from 0 to 65535, not "${value}".`);
  }
  return port;
}

function parsePublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an absolute http(s) URL, not "${value}".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('PUBLIC_URL must start with http:// or https://.');
  }
  if (url.search || url.hash) throw new ConfigError('PUBLIC_URL must not have a query or fragment.');
  return url.href.replace(/\/+$/, '');
}
