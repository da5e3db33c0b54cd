/**
 * Drives SSO sign-ins in tests the way a browser does: `start` on the app
 * (in-process), the IdP over real HTTP with redirects followed by hand, then
 * the callback on the app with the browser's binding cookie.
 */
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { SESSION_COOKIE } from '../src/http/auth.ts';
import type { ConfigInput } from '../src/sso/config.ts';
import { BINDING_COOKIE } from '../src/sso/state.ts';
import { startHostileProvider, type HostileIdp, type HostileIdpOptions } from './idp/hostile.ts';
import { startProvider, type TestIdp, type TestIdpOptions } from './idp/provider.ts';
import type { TestInstance } from './instance.ts';

export const callbackPath = '/auth/sso/callback';
export const redirectUriOf = (t: TestInstance) => `${t.publicUrl}${callbackPath}`;

/** A real OpenID provider shaped like `profile`, with one confidential client for this app. */
export async function realIdp(
  t: TestInstance,
  options: Omit<TestIdpOptions, 'clients'> & { clientId?: string; clientSecret?: string | null },
): Promise<TestIdp & { clientId: string; clientSecret: string | undefined }> {
  const clientId = options.clientId ?? `app-${options.profile}`;
  const clientSecret = options.clientSecret === null ? undefined : (options.clientSecret ?? `secret-${Math.random().toString(36).slice(2)}-x`);
  const idp = await startProvider({
    ...options,
    clients: [{ client_id: clientId, ...(clientSecret ? { client_secret: clientSecret } : {}), redirect_uris: [redirectUriOf(t)] }],
  });
  return Object.assign(idp, { clientId, clientSecret });
}

export async function hostileIdp(options?: HostileIdpOptions): Promise<HostileIdp> {
  return startHostileProvider(options);
}

/** What a test saves; the name defaults. */
export type SsoSettings = Omit<ConfigInput, 'name'> & { name?: string };

/** `PUT /api/integrations/sso` as the admin whose token is given. */
export function putSso(t: TestInstance, token: string, settings: SsoSettings): Promise<LightMyRequestResponse> {
  return t.inject({ method: 'PUT', url: '/api/integrations/sso', token, payload: { name: 'Company IdP', ...settings } });
}

/** Saves a configuration and insists that it was accepted. */
export async function configure(t: TestInstance, token: string, settings: SsoSettings) {
  const response = await putSso(t, token, settings);
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as { config: Record<string, unknown>; issuerNormalized?: string; warnings: { code: string }[] };
}

export interface Started {
  response: LightMyRequestResponse;
  /** Where the app's answer points: the IdP, or /login with an `sso_error`. */
  location: URL;
  /** Sessions in the database just before the request. */
  sessionsBefore: number;
  /** The browser-binding cookie the app set. */
  binding: string | undefined;
}

/** `GET /auth/sso/start?…` on `t`. */
export async function start(
  t: TestInstance,
  query: Record<string, string>,
  binding?: string,
): Promise<Started> {
  const sessionsBefore = await sessionCount(t);
  const response = await t.inject({
    method: 'GET',
    url: `/auth/sso/start?${new URLSearchParams(query)}`,
    ...(binding ? { cookies: { [BINDING_COOKIE]: binding } } : {}),
  });
  assert.equal(response.statusCode, 302, response.body);
  const location = new URL(response.headers.location as string, t.publicUrl);
  const binding_ = response.cookies.find((cookie) => cookie.name === BINDING_COOKIE)?.value;
  return { response, location, binding: binding_, sessionsBefore };
}

/** Follows the IdP's redirects with plain fetch until one leads back to the app's callback. */
export async function throughIdp(t: TestInstance, authorizeUrl: URL): Promise<URL> {
  let next = authorizeUrl;
  for (let hop = 0; hop < 6; hop++) {
    const response = await fetch(next, { redirect: 'manual' });
    await response.body?.cancel();
    const location = response.headers.get('location');
    if (location === null) throw new Error(`${next.href} answered ${response.status} without a redirect`);
    next = new URL(location, next);
    if (next.href.startsWith(redirectUriOf(t))) return next;
  }
  throw new Error('the IdP redirected too many times');
}

export interface Finished {
  response: LightMyRequestResponse;
  location: string;
  /** Sessions in the database just before the callback. */
  sessionsBefore: number;
  /** The session token, when the callback set one. */
  session: string | undefined;
  /** `sso_error` of a refusal. */
  error: string | null;
  ref: string | null;
}

/** `GET /auth/sso/callback?…` on `t`, with the browser's binding cookie. */
export async function finish(t: TestInstance, callbackUrl: URL, binding: string | undefined): Promise<Finished> {
  const sessionsBefore = await sessionCount(t);
  const response = await t.inject({
    method: 'GET',
    url: `${callbackPath}${callbackUrl.search}`,
    ...(binding ? { cookies: { [BINDING_COOKIE]: binding } } : {}),
  });
  assert.equal(response.statusCode, 302, response.body);
  const location = response.headers.location as string;
  const params = new URL(location, t.publicUrl).searchParams;
  const session = response.cookies.find((cookie) => cookie.name === SESSION_COOKIE && cookie.value)?.value;
  return { response, location, sessionsBefore, session, error: params.get('sso_error'), ref: params.get('ref') };
}

/** A whole sign-in: start on `t`, the IdP, and the callback on `options.callbackOn` (default `t`). */
export async function signIn(
  t: TestInstance,
  slug: string,
  options: { loginHint?: string; returnTo?: string; callbackOn?: TestInstance } = {},
): Promise<Finished & { started: Started; callbackUrl: URL }> {
  const query: Record<string, string> = { tenant: slug };
  if (options.loginHint) query.login_hint = options.loginHint;
  if (options.returnTo !== undefined) query.return_to = options.returnTo;
  const started = await start(t, query);
  assert.notEqual(started.location.origin, new URL(t.publicUrl).origin, `start refused: ${started.location.href}`);
  const callbackUrl = await throughIdp(t, started.location);
  const finished = await finish(options.callbackOn ?? t, callbackUrl, started.binding);
  return { ...finished, started, callbackUrl };
}

export async function sessionCount(t: TestInstance): Promise<number> {
  const row = await t.ctx.db.one<{ n: number | string }>('SELECT count(*) AS n FROM sessions');
  return Number(row?.n);
}

/**
 * Asserts a refusal with exactly `code`: the redirect to /login with the code
 * and a ref, no session cookie with a value, and no new session row.
 */
export async function assertRefused(t: TestInstance, finished: Started | Finished, code: string) {
  const location = new URL(finished.location, t.publicUrl);
  assert.equal(location.pathname, '/login', location.href);
  assert.equal(location.searchParams.get('sso_error'), code, location.href);
  assert.match(location.searchParams.get('ref') ?? '', /^[0-9a-f]{10}$/);
  assert.equal(finished.response.cookies.find((cookie) => cookie.name === SESSION_COOKIE && cookie.value), undefined, 'a session cookie was set');
  assert.equal(await sessionCount(t), finished.sessionsBefore, 'a session row was created');
}

/** Asserts a sign-in that landed on /sso-complete with a working session for `email`. */
export async function assertSignedIn(t: TestInstance, finished: Finished, email: string) {
  assert.equal(finished.error, null, `refused with ${finished.error}`);
  assert.match(finished.location, /^\/sso-complete(\?|$)/);
  assert.ok(finished.session, 'no session cookie');
  const me = await t.inject({ method: 'GET', url: '/api/me', cookies: { [SESSION_COOKIE]: finished.session } });
  assert.equal(me.statusCode, 200, me.body);
  assert.equal(me.json().user.email, email);
  assert.equal(me.json().session.method, 'sso');
  return me.json() as { user: { id: string; email: string; firstName: string; lastName: string; role: string }; tenant: { slug: string } };
}
