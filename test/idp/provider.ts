import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';

/** Which real-world IdP the test provider imitates; decides the issuer's shape and the claims. */
export type IdpProfile = 'auth0' | 'okta' | 'entra' | 'google';

/** The directory (tenant) id in the `entra` profile's issuer. */
export const ENTRA_DIRECTORY_ID = '3f2c8a1e-6b4d-4e7a-9c15-8d0b2f6e4a71';

export interface TestIdpUser {
  sub: string;
  email: string;
  /** Defaults to `true`; the `entra` profile never sends the claim. */
  email_verified?: boolean;
  given_name?: string;
  family_name?: string;
}

export interface TestIdpClient {
  client_id: string;
  /** Omit for a public client (PKCE only, token endpoint auth `none`). */
  client_secret?: string;
  redirect_uris: string[];
  /** Defaults to `client_secret_basic` with a secret, `none` without. */
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | 'none';
}

export interface TestIdpOptions {
  profile: IdpProfile;
  clients: TestIdpClient[];
  users?: TestIdpUser[];
  /** Put email and name claims in the ID token (default). When `false` they come only from UserInfo. */
  claimsInIdToken?: boolean;
}

export interface TestIdp {
  /** The issuer exactly as discovery and ID tokens report it. */
  issuer: string;
  /** What an admin types into the form (Auth0's issuer without its trailing slash). */
  typedIssuer: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  /**
   * Sign every following authorization request in as this user, with no page and no cookies
   * needed, until called with `null`; then the IdP shows its HTML login form instead.
   */
  setNextLogin(sub: string | null): void;
  /** The next authorization request ends in `error=access_denied`, as Okta answers an unassigned user. */
  denyNext(description?: string): void;
  addUser(user: TestIdpUser): void;
  /** Registers another client, for when the app's redirect URI is known only after the IdP started. */
  addClient(client: TestIdpClient): void;
  /**
   * Signs new ID tokens with a new key (new `kid`). The old key stays in the JWKS unless
   * `keepOld` is `false`.
   */
  rotateSigningKey(options?: { keepOld?: boolean }): Promise<void>;
  close(): Promise<void>;
}

const ISSUER_PATH: Record<IdpProfile, string> = {
  auth0: '/', // Auth0 reports https://tenant.auth0.com/ with the slash
  okta: '/oauth2/default',
  entra: `/${ENTRA_DIRECTORY_ID}/v2.0`,
  google: '', // https://accounts.google.com: no path, no slash
};

const INTERNAL_HEADER = 'x-test-idp-internal';

/**
 * Starts a real OpenID provider (oidc-provider) on 127.0.0.1 with an ephemeral port, shaped like
 * the given IdP: code flow only, PKCE S256 required, RS256 ID tokens, RFC 9207 `iss` in the
 * authorization response. Every authorization request asks the user to sign in again (no IdP
 * session is kept); consent is always granted.
 */
export async function startProvider(options: TestIdpOptions): Promise<TestIdp> {
  const { profile } = options;
  const users = new Map((options.users ?? []).map((user) => [user.sub, user]));
  const clients = [...options.clients];
  // One store for every Provider built below, so key rotation keeps codes and tokens in flight.
  const adapter = createMemoryAdapter();
  const internalSecret = randomBytes(16).toString('hex');
  let keys: JWK[] = [await signingKey()];
  let autoLogin: string | null = null;
  let denial: string | null = null;

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const issuer = url + ISSUER_PATH[profile];
  const mountPath = ISSUER_PATH[profile].replace(/\/$/, '');

  let provider: Provider;
  let callback: ReturnType<Provider['callback']>;
  // oidc-provider reads clients and keys only when constructed, so changing them means a new instance.
  const build = () => {
    provider = new Provider(issuer, configuration());
    callback = provider.callback();
  };
  build();

  function configuration(): object {
    return {
      adapter,
      clients: clients.map((client) => ({
        ...client,
        token_endpoint_auth_method:
          client.token_endpoint_auth_method ?? (client.client_secret ? 'client_secret_basic' : 'none'),
      })),
      jwks: { keys },
      findAccount: (_ctx: unknown, sub: string) => {
        const user = users.get(sub);
        return user && { accountId: sub, claims: () => claimsOf(user) };
      },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name'] },
      // true means "scope claims only at UserInfo", as long as an access token is issued for it.
      conformIdTokenClaims: options.claimsInIdToken === false,
      features: { devInteractions: { enabled: false } },
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `${mountPath}/interaction/${interaction.uid}` },
      // No sign-in session survives a flow: the session cookie's path is never requested, so every
      // authorization request asks who signs in, and one browser can sign in as several users.
      cookies: { long: { httpOnly: true, sameSite: 'lax', path: `${mountPath}/test-idp-keeps-no-session` } },
      pkce: { required: () => true },
      responseTypes: ['code'],
      ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
      renderError: (ctx: KoaContextWithOIDC, out: Record<string, string>) => {
        ctx.type = 'text';
        ctx.body = `${out.error}: ${out.error_description}`;
      },
    };
  }

  function claimsOf(user: TestIdpUser) {
    const { sub, email, given_name, family_name, email_verified = true } = user;
    // Entra ID never sends email_verified.
    return profile === 'entra' ? { sub, email, given_name, family_name } : { sub, email, email_verified, given_name, family_name };
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const original = req.url ?? '/';
    const path = new URL(original, url).pathname;
    if (!path.startsWith(`${mountPath}/`)) {
      res.writeHead(404).end();
      return;
    }
    // Mounted the way Express does it, so oidc-provider puts its endpoints under the issuer's path.
    Object.assign(req, { originalUrl: original, url: original.slice(mountPath.length) });
    const route = path.slice(mountPath.length);
    const interaction = /^\/interaction\/[\w-]+(\/login)?$/.exec(route);
    if (interaction) {
      await interact(req, res, interaction[1] !== undefined);
    } else if (route === '/auth' && req.headers[INTERNAL_HEADER] !== internalSecret && (autoLogin ?? denial) !== null) {
      await completeWithoutBrowser(original, res);
    } else {
      callback(req, res);
    }
  }

  async function interact(req: IncomingMessage, res: ServerResponse, submitted: boolean) {
    const details = await provider.interactionDetails(req, res);
    if (denial !== null) {
      const error_description = denial;
      denial = null;
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description }, { mergeWithLastSubmission: false });
      return;
    }
    let sub = autoLogin;
    if (submitted) {
      const email = new URLSearchParams(await text(req)).get('email')?.trim() ?? '';
      sub = [...users.values()].find((user) => user.email.toLowerCase() === email.toLowerCase())?.sub ?? null;
      if (sub === null) {
        sendLoginForm(res, 400, details.uid, email, 'No account with this email.');
        return;
      }
    }
    if (sub === null) {
      sendLoginForm(res, 200, details.uid, String(details.params.login_hint ?? ''));
      return;
    }
    const grant = new provider.Grant({ accountId: sub, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    const consent = { grantId: await grant.save() };
    await provider.interactionFinished(req, res, { login: { accountId: sub }, consent }, { mergeWithLastSubmission: false });
  }

  function sendLoginForm(res: ServerResponse, status: number, uid: string, email: string, error?: string) {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(`<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in</title></head><body>
<form method="post" action="${mountPath}/interaction/${uid}/login">
<label for="email">Email</label> <input id="email" name="email" type="email" value="${escapeHtml(email)}" autofocus>
<button type="submit">Sign in</button>
</form>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
</body></html>`);
  }

  // Plays the browser's part (cookies included) for a test that follows redirects with plain
  // fetch: runs authorization, interaction and resume here, then answers with where the IdP
  // finally sends the user (the client's redirect URI with a code or an error).
  async function completeWithoutBrowser(original: string, res: ServerResponse) {
    const jar = new Map<string, string>();
    let next = new URL(original, url);
    for (let hop = 0; hop < 5; hop++) {
      const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
      const response = await fetch(next, { redirect: 'manual', headers: { [INTERNAL_HEADER]: internalSecret, cookie } });
      for (const setCookie of response.headers.getSetCookie()) {
        const pair = setCookie.split(';', 1)[0]!;
        const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
        if (value) jar.set(name, value);
        else jar.delete(name);
      }
      const location = response.headers.get('location');
      if (location === null) {
        res.writeHead(response.status, { 'content-type': response.headers.get('content-type') ?? 'text/plain' });
        res.end(await response.text());
        return;
      }
      next = new URL(location, next);
      if (next.origin !== url) {
        res.writeHead(response.status, { location: next.href }).end();
        return;
      }
    }
    throw new Error('the test IdP redirected to itself too many times');
  }

  return {
    issuer,
    typedIssuer: issuer.replace(/\/$/, ''),
    url,
    port,
    setNextLogin(sub) {
      if (sub !== null && !users.has(sub)) throw new Error(`unknown test IdP user ${sub}`);
      autoLogin = sub;
    },
    denyNext(description = 'User is not assigned to the client application.') {
      denial = description;
    },
    addUser(user) {
      users.set(user.sub, user);
    },
    addClient(client) {
      clients.push(client);
      build();
    },
    async rotateSigningKey({ keepOld = true } = {}) {
      // oidc-provider signs with the first key of the set.
      keys = [await signingKey(), ...(keepOld ? keys : [])];
      build();
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

async function signingKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
