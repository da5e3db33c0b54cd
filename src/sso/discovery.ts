import { AppError } from '../errors/catalogue.ts';
import { jsonOf, requestIdp } from './outbound.ts';

const WELL_KNOWN = '/.well-known/openid-configuration';

/** An IdP's OpenID configuration as stored: the whole document, checked for what sign-in needs. */
export interface IdpMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
  [field: string]: unknown;
}

export interface Warning {
  code: 'entra_v1_issuer' | 'insecure_issuer' | 'scopes_without_email' | 'no_pkce_s256';
  message: string;
}

/**
 * Normalises an issuer as an admin typed it (SPEC 3.1): trims whitespace,
 * strips a pasted `/.well-known/openid-configuration` and trailing slashes,
 * and lower-cases scheme and host. Refuses `issuer_invalid` for anything that
 * is not a plain http(s) URL.
 */
export function normalizeIssuer(typed: string): string {
  let value = typed.trim().replace(/\/+$/, '');
  if (value.endsWith(WELL_KNOWN)) value = value.slice(0, -WELL_KNOWN.length).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AppError('issuer_invalid');
  }
  // An issuer identifier has no query, fragment or credentials (OpenID Discovery 1.0, section 2).
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || /[?#]/.test(value)) {
    throw new AppError('issuer_invalid');
  }
  return url.href.replace(/\/+$/, '');
}

/**
 * Fetches and validates `<issuer>/.well-known/openid-configuration` within
 * `timeoutMs`. The reported issuer must equal `issuer` give or take one
 * trailing slash (Auth0 reports `https://x.auth0.com/`). Refuses with
 * `discovery_failed`, `discovery_issuer_mismatch` or `discovery_incomplete`.
 */
export async function discover(issuer: string, timeoutMs: number): Promise<IdpMetadata> {
  let document: unknown;
  try {
    const answer = await requestIdp(`${issuer}${WELL_KNOWN}`, { headers: { accept: 'application/json' } }, AbortSignal.timeout(timeoutMs));
    if (answer.status !== 200) throw new AppError('discovery_failed', { status: answer.status });
    document = jsonOf(answer);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('discovery_failed');
  }
  return checkMetadata(issuer, document);
}

/** Checks a discovery document for what sign-in needs; refuses as {@link discover} does. */
export function checkMetadata(expected: string, document: unknown): IdpMetadata {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new AppError('discovery_failed');
  const doc = document as Record<string, unknown>;
  if (typeof doc.issuer !== 'string') throw new AppError('discovery_incomplete', { missing: ['issuer'] });
  if (doc.issuer !== expected && doc.issuer !== `${expected}/`) {
    throw new AppError('discovery_issuer_mismatch', { expected, reported: doc.issuer.slice(0, 2048) });
  }
  const missing = ['authorization_endpoint', 'token_endpoint', 'jwks_uri'].filter((field) => !isHttpUrl(doc[field]));
  if (doc.userinfo_endpoint !== undefined && !isHttpUrl(doc.userinfo_endpoint)) missing.push('userinfo_endpoint');
  const responseTypes = doc.response_types_supported;
  if (!Array.isArray(responseTypes) || !responseTypes.includes('code')) missing.push('response_types_supported');
  if (missing.length > 0) throw new AppError('discovery_incomplete', { missing });
  return doc as IdpMetadata;
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'https:' || protocol === 'http:';
}

const ENTRA_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.partner.microsoftonline.cn',
  'login.chinacloudapi.cn',
  'sts.windows.net',
]);

/** What a successful save should still point out (SPEC 3.1). */
export function warningsFor(issuer: string, scopes: string, metadata: IdpMetadata): Warning[] {
  const warnings: Warning[] = [];
  const url = new URL(issuer);
  if (ENTRA_HOSTS.has(url.hostname) && !/\/v2\.0\/?$/.test(url.pathname)) {
    warnings.push({
      code: 'entra_v1_issuer',
      message: 'This is a Microsoft Entra v1 issuer: the v1 endpoint has different claim names. Use https://login.microsoftonline.com/<directory-id>/v2.0.',
    });
  }
  if (url.protocol === 'http:') {
    warnings.push({
      code: 'insecure_issuer',
      message: 'The issuer uses http:, so sign-ins are not protected in transit. Use https: outside local testing.',
    });
  }
  if (!scopes.split(/\s+/).includes('email')) {
    warnings.push({
      code: 'scopes_without_email',
      message: 'The scopes do not include "email": many identity providers then send no email address, and sign-in fails.',
    });
  }
  const pkce = metadata.code_challenge_methods_supported;
  if (!Array.isArray(pkce) || !pkce.includes('S256')) {
    warnings.push({
      code: 'no_pkce_s256',
      message: 'The identity provider does not advertise S256 PKCE. Sign-ins still send it; check that the provider accepts it.',
    });
  }
  return warnings;
}
