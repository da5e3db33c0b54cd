import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { normalizeEmail } from '../accounts/email.ts';
import { findUserByEmail, getTenantBySlug, getUser, type UserRow } from '../accounts/tenants.ts';
import type { Context } from '../context.ts';
import { AppError, ssoErrorCodes, type SsoErrorCode } from '../errors/catalogue.ts';
import { recordAttempt } from './attempts.ts';
import { currentMetadata, loadConfigRow, markVerified, redirectUri, secretContext, type ConfigRow } from './config.ts';
import type { IdpMetadata } from './discovery.ts';
import { idpFetch } from './outbound.ts';
import { bindingFor, consumeState, issueState, type PendingSignIn } from './state.ts';

/** Leeway for `exp` and `nbf` of ID tokens; SPEC 4 allows at most 5 minutes. */
const CLOCK_TOLERANCE_S = 30;
const NAME_MAX = 100;
/** A JWKS cache that openid-client treats as expired: it downloads the set again. */
const STALE_JWKS: client.ExportedJWKSCache = { jwks: { keys: [] }, uat: 0 };

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

/** One sign-in's openid-client configuration, with its shared deadline and what went wrong on the wire. */
interface Exchange {
  config: client.Configuration;
  /** Keeps the JWKS this sign-in used for the next one. */
  remember(): void;
  /** The SSO code for an error thrown by openid-client during this sign-in. */
  failure(error: unknown): AppError;
}

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
  readonly #jwks = new Map<string, { jwksUri: string; cache: client.ExportedJWKSCache }>();
  readonly #refreshing = new Map<string, Promise<IdpMetadata>>();

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  /** `GET /auth/sso/start`: sends the browser to the tenant's IdP. */
  async start(request: StartRequest, bindingCookie: string | undefined): Promise<StartResult> {
    const ctx = this.#ctx;
    const ref = newRef();
    let tenantId: string | undefined;
    try {
      const tenant = request.tenant ? await getTenantBySlug(ctx.db, request.tenant) : undefined;
      tenantId = tenant?.id;
      const row = tenant && (await loadConfigRow(ctx.db, tenant.id));
      if (!row) throw new AppError('sso_not_configured');
      const metadata = await this.#metadata(row);
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
      const url = client.buildAuthorizationUrl(this.#configuration(row, metadata, client.None()), {
        redirect_uri: redirectUri(ctx),
        response_type: 'code',
        scope: row.scopes.split(/\s+/).join(' '),
        // PKCE and nonce always, whatever the IdP advertises: the verifier
        // stays on the server, so a stolen code is useless.
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...(loginHint ? { login_hint: loginHint } : {}),
      });
      return { location: url.href, binding };
    } catch (error) {
      return { location: await this.#refused(error, ref, tenantId, null) };
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
    const metadata = JSON.parse(row.metadata) as IdpMetadata;
    const exchange = await this.#exchange(row, metadata);
    const currentUrl = new URL(redirectUri(ctx));
    currentUrl.search = params.toString();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(exchange.config, currentUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw exchange.failure(error);
    }
    exchange.remember();
    const idToken = tokens.claims();
    if (!idToken) throw new AppError('sso_token_invalid', { reason: 'no ID token' });

    // 6. The email: from the ID token, else from UserInfo about the same subject.
    let userinfo: client.UserInfoResponse | undefined;
    if (idToken[row.claim_email] === undefined && metadata.userinfo_endpoint !== undefined) {
      try {
        userinfo = await client.fetchUserInfo(exchange.config, tokens.access_token, idToken.sub);
      } catch (error) {
        throw exchange.failure(error);
      }
    }
    const source: Record<string, unknown> = userinfo ?? idToken;
    const rawEmail = source[row.claim_email];
    if (typeof rawEmail !== 'string' || !rawEmail.trim()) throw new AppError('sso_no_email_claim');
    seen.email = rawEmail.trim();
    // Absent is fine (Entra never sends it); only an explicit "no" refuses.
    if (source.email_verified === false || source.email_verified === 'false') throw new AppError('sso_email_unverified');

    // 7. The member of that tenant, and 8. their link to this IdP identity.
    const user = await findUserByEmail(ctx.db, pending.tenantId, normalizeEmail(rawEmail));
    if (!user) throw new AppError('user_not_provisioned');
    if (user.status !== 'active') throw new AppError('account_disabled');
    const name = (claim: string) => nameClaim(idToken[claim] ?? userinfo?.[claim]);
    await this.#link(user, pending.issuer, idToken.sub, { firstName: name(row.claim_first_name), lastName: name(row.claim_last_name) });

    // 9. The session.
    const session = await ctx.sessions.create(pending.tenantId, user.id, 'sso');
    if (user.role === 'admin') await markVerified(ctx, pending.tenantId, pending.issuer, row.client_id);
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
  async #link(user: UserRow, issuer: string, sub: string, names: { firstName: string; lastName: string }): Promise<void> {
    const ctx = this.#ctx;
    const linkedHere = user.sso_subject !== null && user.sso_issuer === issuer;
    if (linkedHere && user.sso_subject !== sub) throw new AppError('sso_identity_mismatch');
    const other = await ctx.db.one<{ id: string }>(
      'SELECT id FROM users WHERE tenant_id = $1 AND sso_subject = $2 AND sso_issuer = $3 AND id <> $4',
      [user.tenant_id, sub, issuer, user.id],
    );
    if (other) throw new AppError('sso_identity_mismatch');
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

  #configuration(row: ConfigRow, metadata: IdpMetadata, auth: client.ClientAuth): client.Configuration {
    const skew = Math.round((this.#ctx.clock.now() - Date.now()) / 1000);
    const config = new client.Configuration(
      serverMetadata(metadata),
      row.client_id,
      // Our clock, not the process's, decides whether a token has expired.
      { [client.clockSkew]: skew, [client.clockTolerance]: CLOCK_TOLERANCE_S },
      auth,
    );
    // Loopback and http: issuers are allowed, with a warning on save (SPEC 3.1).
    if (new URL(metadata.issuer).protocol === 'http:') client.allowInsecureRequests(config);
    return config;
  }

  /** An openid-client configuration for one callback, its calls to the IdP under one deadline. */
  async #exchange(row: ConfigRow, metadata: IdpMetadata): Promise<Exchange> {
    const ctx = this.#ctx;
    const config = this.#configuration(row, metadata, await this.#clientAuth(row, metadata));
    // openid-client verifies ID token signatures only when asked to.
    client.enableNonRepudiationChecks(config);
    const timeoutMs = ctx.config.ssoTimeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    // A backstop only: the deadline below fires first.
    config.timeout = Math.ceil(timeoutMs / 1000) + 1;
    const known = this.#jwks.get(row.tenant_id);
    if (known?.jwksUri === metadata.jwks_uri) client.setJwksCache(config, known.cache);

    const endpoints = new Map<string, 'token' | 'jwks' | 'userinfo'>([
      [new URL(metadata.token_endpoint).href, 'token'],
      [new URL(metadata.jwks_uri).href, 'jwks'],
      ...(metadata.userinfo_endpoint ? [[new URL(metadata.userinfo_endpoint).href, 'userinfo'] as const] : []),
    ]);
    let current: 'token' | 'jwks' | 'userinfo' | undefined;
    let failedAt: typeof current;
    const fetchIdp = idpFetch(deadline);
    config[client.customFetch] = async (url, options) => {
      current = endpoints.get(new URL(url).href);
      let response: Response;
      try {
        response = await fetchIdp(url, options as RequestInit);
      } catch (error) {
        failedAt = current;
        throw error;
      }
      if (current === 'jwks' && !response.ok) failedAt = 'jwks';
      if (current === 'token' && response.ok) {
        // Keys rotate (SPEC 4): an ID token signed with a key that our copy of
        // the JWKS lacks makes this sign-in fetch the JWKS again, once.
        // openid-client alone would wait until its copy is a minute old.
        const kid = await idTokenKid(response);
        if (kid !== undefined && !known?.cache.jwks.keys.some((key) => key.kid === kid)) client.setJwksCache(config, STALE_JWKS);
      }
      return response;
    };

    return {
      config,
      remember: () => {
        const cache = client.getJwksCache(config);
        if (cache) this.#jwks.set(row.tenant_id, { jwksUri: metadata.jwks_uri, cache });
      },
      failure: (error) => {
        const reason = describe(error);
        const timedOut = deadline.aborted;
        // The IdP's keys could not be had: its metadata is unavailable.
        if (failedAt === 'jwks' || (timedOut && current === 'jwks')) return new AppError('sso_discovery_failed', { reason });
        // Unreachable, too slow, an HTTP error or an OAuth error (invalid_grant, invalid_client): the IdP refused.
        if (failedAt !== undefined || timedOut) return new AppError('sso_idp_rejected', { reason });
        if (error instanceof client.ResponseBodyError || error instanceof client.WWWAuthenticateChallengeError) {
          return new AppError('sso_idp_rejected', { reason });
        }
        const code = (error as { code?: unknown }).code;
        if (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || code === 'OAUTH_RESPONSE_IS_NOT_JSON') return new AppError('sso_idp_rejected', { reason });
        // Everything else is an answer that failed validation.
        return new AppError('sso_token_invalid', { reason });
      },
    };
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

/** The metadata openid-client works from; an IdP that lists `none` does not get to send unsigned ID tokens. */
function serverMetadata(metadata: IdpMetadata): client.ServerMetadata {
  const { id_token_signing_alg_values_supported: algs, ...rest } = metadata;
  const signed = Array.isArray(algs) ? algs.filter((alg): alg is string => typeof alg === 'string' && alg !== 'none') : [];
  // A stored discovery document is JSON, which is what openid-client reads.
  return (signed.length > 0 ? { ...rest, id_token_signing_alg_values_supported: signed } : rest) as client.ServerMetadata;
}

/** The `kid` of the ID token in a token response, read from a copy of it; undefined when there is none. */
async function idTokenKid(response: Response): Promise<string | undefined> {
  try {
    const body = (await response.clone().json()) as { id_token?: unknown };
    return typeof body.id_token === 'string' ? decodeProtectedHeader(body.id_token).kid : undefined;
  } catch {
    return undefined;
  }
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
