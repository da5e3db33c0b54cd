import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { normalizeEmail } from '../accounts/email.ts';
import { getUser, USER_COLUMNS, type UserRow } from '../accounts/tenants.ts';
import type { Context } from '../context.ts';
import { AppError, ssoErrorCodes, type SsoErrorCode } from '../errors/catalogue.ts';
import { recordAttempt } from './attempts.ts';
import {
  currentMetadata,
  loadConfigBySlug,
  loadConfigRow,
  markVerified,
  metadataIsStale,
  redirectUri,
  secretContext,
  type ConfigRow,
} from './config.ts';
import type { IdpMetadata } from './discovery.ts';
import { asResponse, jsonOf, requestIdp, type IdpAnswer, type IdpRequest } from './outbound.ts';
import { bindingFor, consumeState, issueState, type PendingSignIn } from './state.ts';

/** Leeway for `exp` and `nbf` of ID tokens; SPEC 4 allows at most 5 minutes. */
const CLOCK_TOLERANCE_S = 30;
const NAME_MAX = 100;

export interface StartRequest {
  tenant?: string | undefined;
  loginHint?: string | undefined;
  returnTo?: string | undefined;
}

/** Where to send the browser, and the binding secret to set as a cookie. */
export interface StartResult {
  location: string;
  binding?: string;
}

/** Where to send the browser, and the new session when the sign-in succeeded. */
export interface CallbackResult {
  location: string;
  session?: { token: string; expiresAt: number };
}

/** What a callback learned before it ended, for the attempt record. */
interface Seen {
  tenantId: string | undefined;
  email: string | null;
}

type Endpoint = 'token' | 'jwks' | 'userinfo';

/** One callback's calls to the IdP. */
interface IdpCalls {
  /** Shared by all of them, so a slow IdP cannot add several timeouts up. */
  readonly deadline: AbortSignal;
  /** The token answer, kept when its ID token names a key that our copy of the IdP's JWKS lacks. */
  rotated?: IdpAnswer;
}

/** A call to the IdP that failed on the wire: unreachable, too slow, unreadable, or an HTTP error from the JWKS endpoint. */
class IdpCallFailed extends Error {
  readonly endpoint: Endpoint | undefined;
  constructor(endpoint: Endpoint | undefined, cause: unknown) {
    super(`the ${endpoint ?? 'IdP'} call failed: ${(cause as { message?: unknown }).message}`, { cause });
    this.endpoint = endpoint;
  }
}

/**
 * The callback whose calls to the IdP are being made: openid-client's
 * `customFetch` is set once per tenant, so each callback's deadline and
 * bookkeeping travel with its async context instead.
 */
const idpCalls = new AsyncLocalStorage<IdpCalls>();

/**
 * A tenant's openid-client configuration, kept between sign-ins so that the
 * IdP's signing keys are imported once, not in every callback.
 */
interface TenantClient {
  readonly config: client.Configuration;
  readonly metadata: IdpMetadata;
  /** The clock skew and the row fields it was built from: a row that differs in any needs a new one. */
  readonly builtFrom: readonly unknown[];
}

type TokenResponse = Awaited<ReturnType<typeof client.authorizationCodeGrant>>;

const isSsoCode = (code: string): code is SsoErrorCode => (ssoErrorCodes as readonly string[]).includes(code);

/** A short id that the refused user sees on /login and the admin sees beside the attempt. */
const newRef = () => randomBytes(5).toString('hex');

/**
 * The SSO sign-in (SPEC 4): OIDC Authorization Code with PKCE S256 and a
 * nonce, through openid-client. One per server; it keeps each tenant's IdP
 * signing keys between sign-ins. Every failure becomes a redirect to
 * `/login?sso_error=<code>&ref=<ref>` and an attempt record.
 */
export class SsoFlow {
  readonly #ctx: Context;
  readonly #clients = new Map<string, TenantClient>();
  readonly #refreshing = new Map<string, Promise<IdpMetadata>>();

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  /** `GET /auth/sso/start`: sends the browser to the tenant's IdP. */
  async start(request: StartRequest, bindingCookie: string | undefined): Promise<StartResult> {
    const ctx = this.#ctx;
    let tenantId: string | undefined;
    try {
      const found = request.tenant ? await loadConfigBySlug(ctx.db, request.tenant) : undefined;
      tenantId = found?.tenantId;
      const row = found?.row;
      if (!row) throw new AppError('sso_not_configured');
      const { config } = await this.#client(row, { refresh: true });
      const codeVerifier = client.randomPKCECodeVerifier();
      const nonce = client.randomNonce();
      const binding = bindingFor(bindingCookie);
      const pending: PendingSignIn = {
        tenantId: row.tenant_id,
        issuer: row.discovered_issuer,
        codeVerifier,
        nonce,
        returnTo: safeReturnTo(request.returnTo),
      };
      const state = await issueState(ctx, pending, binding);
      const loginHint = request.loginHint?.trim();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri(ctx),
        response_type: 'code',
        scope: row.scopes.split(/\s+/).join(' '),
        // PKCE and nonce always, whatever the IdP advertises: the verifier
        // stays on the server, so a stolen code is useless.
        code_challenge: pkceChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...(loginHint ? { login_hint: loginHint } : {}),
      });
      return { location: url.href, binding };
    } catch (error) {
      return { location: await this.#refused(error, newRef(), tenantId, null) };
    }
  }

  /** `GET /auth/sso/callback`: completes the sign-in from the IdP's answer. */
  async callback(rawQuery: string, bindingCookie: string | undefined): Promise<CallbackResult> {
    const ctx = this.#ctx;
    const ref = newRef();
    const seen: Seen = { tenantId: undefined, email: null };
    try {
      const result = await this.#complete(new URLSearchParams(rawQuery), bindingCookie, seen);
      await recordAttempt(ctx, seen.tenantId!, { email: seen.email, result: 'ok', ref });
      ctx.log.info({ tenantId: seen.tenantId, ref, result: 'ok' }, 'sso sign-in');
      return result;
    } catch (error) {
      return { location: await this.#refused(error, ref, seen.tenantId, seen.email) };
    }
  }

  /** SPEC 4's callback steps, in order. */
  async #complete(params: URLSearchParams, binding: string | undefined, seen: Seen): Promise<CallbackResult> {
    const ctx = this.#ctx;

    // 1. The state: ours, unexpired, unused, and from this browser.
    const states = params.getAll('state');
    if (states.length !== 1) throw new AppError('sso_state_invalid');
    const state = states[0]!;
    const consumed = await consumeState(ctx, state, binding);
    seen.tenantId = consumed.ok ? consumed.pending.tenantId : consumed.tenantId;
    if (!consumed.ok) throw new AppError('sso_state_invalid');
    const { pending } = consumed;
    const row = await loadConfigRow(ctx.db, pending.tenantId);
    if (!row) throw new AppError('sso_not_configured');
    // The configuration was switched to another IdP during this sign-in.
    if (row.discovered_issuer !== pending.issuer) throw new AppError('sso_state_invalid');

    // 2. The IdP refused the user.
    if (params.has('error')) {
      throw new AppError('sso_access_denied', { reason: params.get('error')!.replace(/[^\w.-]/g, '').slice(0, 64) });
    }

    // 3. Mix-up defence (RFC 9207): an answer naming another issuer than the
    // one this browser was sent to is not for us, whatever else it carries.
    const iss = params.getAll('iss');
    if (iss.length > 1 || (iss.length === 1 && iss[0] !== pending.issuer)) {
      throw new AppError('sso_token_invalid', { reason: 'authorization response iss mismatch' });
    }

    // 4 and 5. Exchange the code (secret and PKCE verifier) and validate the
    // ID token: signature against the IdP's JWKS, alg, iss, aud, azp, exp,
    // iat and nonce are all openid-client's checks.
    const tenant = await this.#client(row, { refresh: false });
    const currentUrl = new URL(`${redirectUri(ctx)}?${params}`);
    const checks = { pkceCodeVerifier: pending.codeVerifier, expectedState: state, expectedNonce: pending.nonce, idTokenExpected: true };
    // One deadline for all of this callback's calls to the IdP, so a slow IdP
    // cannot add several timeouts up. A timer cleared when they are done: a
    // signal from AbortSignal.timeout would still fire later, at a cost.
    const deadline = new AbortController();
    const timedOut = () => deadline.abort(new DOMException('the identity provider did not answer in time', 'TimeoutError'));
    const timer = setTimeout(timedOut, ctx.config.ssoTimeoutMs);
    const calls: IdpCalls = { deadline: deadline.signal };
    let idToken: client.IDToken | undefined;
    let userinfo: client.UserInfoResponse | undefined;
    try {
      const tokens = await idpCalls.run(calls, () => this.#grant(tenant, row, currentUrl, checks, calls));
      idToken = tokens.claims();
      // 6. The email: from the ID token, else from UserInfo about the same subject.
      if (idToken && idToken[row.claim_email] === undefined && tenant.metadata.userinfo_endpoint !== undefined) {
        const { sub } = idToken;
        userinfo = await idpCalls.run(calls, () => client.fetchUserInfo(tenant.config, tokens.access_token, sub));
      }
    } catch (error) {
      throw failure(error, calls);
    } finally {
      clearTimeout(timer);
    }
    if (!idToken) throw new AppError('sso_token_invalid', { reason: 'no ID token' });
    const source: Record<string, unknown> = userinfo ?? idToken;
    const rawEmail = source[row.claim_email];
    if (typeof rawEmail !== 'string' || !rawEmail.trim()) throw new AppError('sso_no_email_claim');
    seen.email = rawEmail.trim();
    // Absent is fine (Entra never sends it); only an explicit "no" refuses.
    if (source.email_verified === false || source.email_verified === 'false') throw new AppError('sso_email_unverified');

    // 7. The member of that tenant, and 8. their link to this IdP identity.
    // One query answers both: the member with this email, and anyone in the
    // tenant already linked to this subject (the email is unique per tenant).
    const found = await ctx.db.all<UserRow & { by_email: number }>(
      `SELECT ${USER_COLUMNS}, CASE WHEN email = $2 THEN 1 ELSE 0 END AS by_email FROM users
       WHERE tenant_id = $1 AND (email = $2 OR (sso_subject = $3 AND sso_issuer = $4))`,
      [pending.tenantId, normalizeEmail(rawEmail), idToken.sub, pending.issuer],
    );
    const user = found.find((candidate) => candidate.by_email === 1);
    if (!user) throw new AppError('user_not_provisioned');
    if (user.status !== 'active') throw new AppError('account_disabled');
    const subjectLinkedToOther = found.some((candidate) => candidate !== user);
    const name = (claim: string) => nameClaim(idToken[claim] ?? userinfo?.[claim]);
    const names = { firstName: name(row.claim_first_name), lastName: name(row.claim_last_name) };
    await this.#link(user, subjectLinkedToOther, pending.issuer, idToken.sub, names);

    // 9. The session.
    const session = await ctx.sessions.create(pending.tenantId, user.id, 'sso');
    // Only while unverified: once an admin has signed in, later sign-ins prove nothing new.
    if (user.role === 'admin' && row.verified_at === null) await markVerified(ctx, pending.tenantId, pending.issuer, row.client_id);
    const location = pending.returnTo ? `/sso-complete?${new URLSearchParams({ return_to: pending.returnTo })}` : '/sso-complete';
    return { location, session };
  }

  /**
   * Links the member to the IdP identity on first sign-in, and refuses
   * `sso_identity_mismatch` when either side is linked elsewhere: a member
   * linked to another subject of this issuer, or this subject already linked
   * to another member. A link made under another issuer (the tenant changed
   * IdP) is replaced by email, as on a first sign-in.
   */
  async #link(
    user: UserRow,
    subjectLinkedToOther: boolean,
    issuer: string,
    sub: string,
    names: { firstName: string; lastName: string },
  ): Promise<void> {
    const ctx = this.#ctx;
    const linkedHere = user.sso_subject !== null && user.sso_issuer === issuer;
    if (linkedHere && user.sso_subject !== sub) throw new AppError('sso_identity_mismatch');
    if (subjectLinkedToOther) throw new AppError('sso_identity_mismatch');
    const fillFirst = user.first_name === '' && names.firstName !== '';
    const fillLast = user.last_name === '' && names.lastName !== '';
    if (linkedHere && !fillFirst && !fillLast) return;
    // Conditional, so that of two first sign-ins racing with different
    // subjects only one links; the other finds the link and is refused.
    const changed = await ctx.db.run(
      `UPDATE users SET sso_issuer = $1, sso_subject = $2,
         first_name = CASE WHEN first_name = '' THEN $3 ELSE first_name END,
         last_name = CASE WHEN last_name = '' THEN $4 ELSE last_name END, updated_at = $5
       WHERE tenant_id = $6 AND id = $7 AND status = 'active'
         AND (sso_subject IS NULL OR sso_issuer IS NULL OR sso_issuer <> $1 OR sso_subject = $2)`,
      [issuer, sub, names.firstName, names.lastName, ctx.clock.now(), user.tenant_id, user.id],
    );
    if (changed === 0) {
      const fresh = await getUser(ctx.db, user.tenant_id, user.id);
      throw new AppError(fresh?.status === 'active' ? 'sso_identity_mismatch' : 'account_disabled');
    }
  }

  /** The tenant's metadata, refetched at most once at a time per tenant when stale. */
  async #metadata(row: ConfigRow): Promise<IdpMetadata> {
    const running = this.#refreshing.get(row.tenant_id);
    if (running) return running;
    const refresh = currentMetadata(this.#ctx, row).finally(() => this.#refreshing.delete(row.tenant_id));
    this.#refreshing.set(row.tenant_id, refresh);
    return refresh;
  }

  /**
   * The code exchange and the ID token's validation, by openid-client. When
   * the ID token names a key that our copy of the IdP's JWKS lacks (keys
   * rotate, SPEC 4), the same answer is validated again with a configuration
   * that fetches the JWKS once more; that one is kept. openid-client alone
   * would keep refusing the new key until its copy is a minute old, and a
   * configuration holds on to the keys it imported.
   */
  async #grant(
    tenant: TenantClient,
    row: ConfigRow,
    currentUrl: URL,
    checks: client.AuthorizationCodeGrantChecks,
    calls: IdpCalls,
  ): Promise<TokenResponse> {
    try {
      return await client.authorizationCodeGrant(tenant.config, currentUrl, checks);
    } catch (error) {
      if (!calls.rotated) throw error;
    }
    const fresh = await this.#build(row, tenant.metadata, tenant.builtFrom);
    this.#clients.set(row.tenant_id, fresh);
    return client.authorizationCodeGrant(fresh.config, currentUrl, checks);
  }

  /**
   * The tenant's openid-client configuration: the one kept from earlier
   * sign-ins while the row it was built from is unchanged, else a new one.
   * `refresh` refetches metadata older than an hour first (the start of a
   * sign-in); a callback uses what its start saw.
   */
  async #client(row: ConfigRow, { refresh }: { refresh: boolean }): Promise<TenantClient> {
    const builtFrom = [this.#skew(), row.issuer, row.discovered_issuer, row.client_id, row.client_secret_enc, row.metadata];
    const kept = this.#clients.get(row.tenant_id);
    const stale = refresh && metadataIsStale(this.#ctx, row);
    if (kept && !stale && kept.builtFrom.every((value, i) => value === builtFrom[i])) return kept;
    const metadata = refresh ? await this.#metadata(row) : (JSON.parse(row.metadata) as IdpMetadata);
    const built = await this.#build(row, metadata, builtFrom);
    // Another configuration's keys are worth keeping when it names the same JWKS.
    const jwks = kept && kept.metadata.jwks_uri === metadata.jwks_uri ? client.getJwksCache(kept.config) : undefined;
    if (jwks) client.setJwksCache(built.config, jwks);
    this.#clients.set(row.tenant_id, built);
    return built;
  }

  /** Our clock, not the process's, decides whether a token has expired. */
  #skew(): number {
    return Math.round((this.#ctx.clock.now() - Date.now()) / 1000);
  }

  /** A configuration for the row's IdP and client, whose calls go through requestIdp under the calling callback's deadline. */
  async #build(row: ConfigRow, metadata: IdpMetadata, builtFrom: readonly unknown[]): Promise<TenantClient> {
    const config = new client.Configuration(
      serverMetadata(metadata),
      row.client_id,
      { [client.clockSkew]: this.#skew(), [client.clockTolerance]: CLOCK_TOLERANCE_S },
      await this.#clientAuth(row, metadata),
    );
    // Loopback and http: issuers are allowed, with a warning on save (SPEC 3.1).
    if (new URL(metadata.issuer).protocol === 'http:') client.allowInsecureRequests(config);
    // openid-client verifies ID token signatures only when asked to.
    client.enableNonRepudiationChecks(config);
    // No timeout of openid-client's own: every call is under its callback's deadline (below).
    config.timeout = 0;

    const endpoints = new Map<string, Endpoint>([
      [new URL(metadata.token_endpoint).href, 'token'],
      [new URL(metadata.jwks_uri).href, 'jwks'],
      ...(metadata.userinfo_endpoint ? [[new URL(metadata.userinfo_endpoint).href, 'userinfo'] as const] : []),
    ]);
    config[client.customFetch] = async (url, options) => {
      const calls = idpCalls.getStore();
      // Every call to an IdP is under a callback's deadline; none may go out without one.
      if (!calls) throw new Error('a call to the IdP outside a sign-in');
      // openid-client names endpoints by their href, as we have them.
      const endpoint = endpoints.get(url);
      // The answer this callback already received, validated again: not a second exchange.
      if (endpoint === 'token' && calls.rotated) return asResponse(calls.rotated);
      let answer: IdpAnswer;
      let response: Response;
      try {
        answer = await requestIdp(url, options as IdpRequest, calls.deadline);
        response = asResponse(answer);
      } catch (error) {
        throw new IdpCallFailed(endpoint, error);
      }
      const { ok } = response;
      if (endpoint === 'jwks' && !ok) throw new IdpCallFailed(endpoint, new Error(`HTTP ${answer.status}`));
      // Keys rotate (SPEC 4): an ID token signed with a key that our copy of
      // the JWKS lacks ends this exchange here, and #grant validates the same
      // answer with a configuration that fetches the JWKS again, once.
      const known = endpoint === 'token' && ok ? client.getJwksCache(config)?.jwks.keys : undefined;
      if (known) {
        const kid = idTokenKid(answer);
        if (kid !== undefined && !known.some((key) => key.kid === kid)) {
          calls.rotated = answer;
          throw new Error('the ID token is signed with a key that our copy of the JWKS lacks');
        }
      }
      return response;
    };
    return { config, metadata, builtFrom };
  }

  /** Public client without a secret; else the method discovery advertises, Basic first (SPEC 3.1). */
  async #clientAuth(row: ConfigRow, metadata: IdpMetadata): Promise<client.ClientAuth> {
    if (row.client_secret_enc === null) return client.None();
    let secret: string;
    try {
      secret = await this.#ctx.sealer.open(row.client_secret_enc, secretContext(row.tenant_id));
    } catch (error) {
      this.#ctx.log.error({ tenantId: row.tenant_id, err: { message: (error as Error).message } }, 'the SSO client secret does not open');
      throw new AppError('sso_idp_rejected', { reason: 'client secret unavailable' });
    }
    const methods = metadata.token_endpoint_auth_methods_supported;
    const postOnly = Array.isArray(methods) && methods.includes('client_secret_post') && !methods.includes('client_secret_basic');
    return postOnly ? client.ClientSecretPost(secret) : client.ClientSecretBasic(secret);
  }

  /** Records and logs a refusal, and answers where the browser goes. Errors that are not SSO results propagate. */
  async #refused(error: unknown, ref: string, tenantId: string | undefined, email: string | null): Promise<string> {
    if (!(error instanceof AppError) || !isSsoCode(error.code)) throw error;
    if (tenantId) await recordAttempt(this.#ctx, tenantId, { email, result: error.code, ref });
    this.#ctx.log.info({ tenantId, ref, result: error.code, reason: error.details?.reason }, 'sso sign-in refused');
    return `/login?${new URLSearchParams({ sso_error: error.code, ref })}`;
  }
}

/** The SSO code for an error thrown by openid-client during a callback. */
function failure(error: unknown, calls: IdpCalls): AppError {
  const reason = describe(error);
  const failed = failedCall(error);
  // The IdP's keys could not be had: its metadata is unavailable.
  if (failed?.endpoint === 'jwks') return new AppError('sso_discovery_failed', { reason });
  // Unreachable, too slow, an HTTP error or an OAuth error (invalid_grant, invalid_client): the IdP refused.
  if (failed || calls.deadline.aborted) return new AppError('sso_idp_rejected', { reason });
  if (error instanceof client.ResponseBodyError || error instanceof client.WWWAuthenticateChallengeError) {
    return new AppError('sso_idp_rejected', { reason });
  }
  const code = (error as { code?: unknown }).code;
  if (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || code === 'OAUTH_RESPONSE_IS_NOT_JSON') return new AppError('sso_idp_rejected', { reason });
  // Everything else is an answer that failed validation.
  return new AppError('sso_token_invalid', { reason });
}

/**
 * The failed call behind an error, which openid-client wraps as its cause.
 * Found by identity, not by which call came last: concurrent sign-ins of a
 * tenant share one JWKS download, and so its failure.
 */
function failedCall(error: unknown): IdpCallFailed | undefined {
  for (let at = error, depth = 0; at instanceof Error && depth < 5; at = at.cause, depth++) {
    if (at instanceof IdpCallFailed) return at;
  }
  return undefined;
}

/** The metadata openid-client works from; an IdP that lists `none` does not get to send unsigned ID tokens. */
function serverMetadata(metadata: IdpMetadata): client.ServerMetadata {
  const { id_token_signing_alg_values_supported: algs, ...rest } = metadata;
  const signed = Array.isArray(algs) ? algs.filter((alg): alg is string => typeof alg === 'string' && alg !== 'none') : [];
  // A stored discovery document is JSON, which is what openid-client reads.
  return (signed.length > 0 ? { ...rest, id_token_signing_alg_values_supported: signed } : rest) as client.ServerMetadata;
}

/** The `kid` of the ID token in a token answer; undefined when there is none. */
function idTokenKid(answer: IdpAnswer): string | undefined {
  try {
    const body = jsonOf(answer) as { id_token?: unknown };
    return typeof body.id_token === 'string' ? decodeProtectedHeader(body.id_token).kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * RFC 7636's S256 challenge, BASE64URL(SHA-256(verifier)): what openid-client's
 * calculatePKCECodeChallenge answers, without a WebCrypto job per sign-in.
 */
function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function nameClaim(value: unknown): string {
  return typeof value === 'string' ? value.trim().slice(0, NAME_MAX) : '';
}

/**
 * Why openid-client refused, for the log: its code and the library's own
 * sentences, never a response body (an IdP may echo a code or a token back).
 */
function describe(error: unknown): string {
  const err = error as { code?: unknown; error?: unknown; message?: unknown; cause?: { message?: unknown } };
  // `error` comes from the IdP: kept only as the short code it should be.
  const oauthError = typeof err.error === 'string' ? err.error.replace(/[^\w.-]/g, '').slice(0, 64) : undefined;
  return [err.code, oauthError, err.message, err.cause?.message]
    .filter((part): part is string => typeof part === 'string' && part !== '')
    .join(': ')
    .slice(0, 300);
}

/**
 * `return_to` when it is a path on this origin, else null (no open redirect).
 * A browser reads `//host` and `/\host` as another site, and drops tabs and
 * newlines, so those are refused before the URL parser has its say.
 */
export function safeReturnTo(value: string | undefined): string | null {
  if (!value || value.length > 2048 || !value.startsWith('/') || /^\/[/\\]/.test(value) || /[\u0000-\u001f\u007f\\]/.test(value)) {
    return null;
  }
  const base = 'http://return-to.invalid';
  const url = new URL(value, base);
  return url.origin === base ? `${url.pathname}${url.search}${url.hash}` : null;
}
