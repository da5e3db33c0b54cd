import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWK } from 'jose';

/** How the hostile provider misbehaves on the next sign-ins; `ok` is a correct flow. */
export type HostileScenario =
  | 'ok'
  // ID token
  | 'wrong_iss'
  | 'wrong_aud'
  | 'bad_signature'
  | 'alg_none'
  | 'expired'
  | 'no_iat'
  | 'nonce_mismatch'
  | 'multiple_aud_no_azp'
  | 'azp_wrong'
  | 'rotate_key'
  // token endpoint
  | 'token_invalid_grant'
  | 'token_invalid_client'
  | 'token_http_500'
  | 'token_hang'
  // claims
  | 'no_email'
  | 'email_only_in_userinfo'
  | 'email_verified_false'
  | 'email_verified_false_string'
  | 'userinfo_sub_mismatch'
  // authorization response
  | 'iss_param_mismatch'
  | 'access_denied'
  // metadata
  | 'discovery_hang'
  | 'jwks_hang';

export interface HostileUser {
  sub: string;
  email: string;
  email_verified?: boolean | string;
  given_name?: string;
  family_name?: string;
}

export interface HostileIdpOptions {
  clientId?: string;
  clientSecret?: string;
  user?: HostileUser;
  /** Merged into every ID token's payload last; may be changed later through the returned object. */
  customClaims?: Record<string, unknown>;
}

export interface HostileIdp {
  /** `http://127.0.0.1:PORT`, which is also `url`. */
  issuer: string;
  url: string;
  clientId: string;
  clientSecret: string;
  /** Merged into every ID token's payload last. */
  customClaims: Record<string, unknown>;
  /** The path of every request received, in order (e.g. `/jwks` twice after a refetch). */
  requests: string[];
  /** Every authorization code, access token and ID token issued, so tests can look for leaks. */
  issued: string[];
  /** How the client authenticated at the token endpoint, per request: `client_secret_basic` or `client_secret_post`. */
  tokenAuthMethods: string[];
  /** Merged into the discovery document last; a field set to `undefined` is left out. */
  metadataOverrides: Record<string, unknown>;
  /** Applies to every following request until changed; `user` replaces the signed-in user. */
  setScenario(scenario: HostileScenario, user?: HostileUser): void;
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

interface Authorization {
  redirectUri: string;
  codeChallenge: string;
  nonce: string | null;
  scope: string;
}

export const DEFAULT_HOSTILE_USER: HostileUser = {
  sub: 'hostile-sub-1',
  email: 'ada@example.com',
  email_verified: true,
  given_name: 'Ada',
  family_name: 'Lovelace',
};

const OTHER_CLIENT = 'another-client';

/**
 * Starts a hand-made OpenID provider on 127.0.0.1 (ephemeral port) that serves a correct
 * Authorization Code + PKCE flow until told, through `setScenario`, to break one rule, so
 * that tests can prove the relying party refuses each kind of bad answer.
 */
export async function startHostileProvider(options: HostileIdpOptions = {}): Promise<HostileIdp> {
  const clientId = options.clientId ?? 'hostile-client';
  const clientSecret = options.clientSecret ?? randomBytes(16).toString('base64url');
  const published: SigningKey[] = [await newSigningKey()];
  let attackerKey: SigningKey | undefined;
  let rotatedKey: SigningKey | undefined;
  const authorizations = new Map<string, Authorization>();
  const userinfoByAccessToken = new Map<string, Record<string, unknown>>();
  const requests: string[] = [];
  const issued: string[] = [];
  const tokenAuthMethods: string[] = [];
  let scenario: HostileScenario = 'ok';
  let user = options.user ?? DEFAULT_HOSTILE_USER;

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = url;
  const otherIssuer = `${url}/other-issuer`;

  const idp: HostileIdp = {
    issuer,
    url,
    clientId,
    clientSecret,
    customClaims: options.customClaims ?? {},
    requests,
    issued,
    tokenAuthMethods,
    metadataOverrides: {},
    setScenario(next, nextUser) {
      scenario = next;
      if (nextUser) user = nextUser;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Also ends the requests the *_hang scenarios left open.
      server.closeAllConnections();
      await closed;
    },
  };

  // A request left unanswered stays open until close().
  async function handle(req: IncomingMessage, res: ServerResponse) {
    const { pathname, searchParams } = new URL(req.url ?? '/', url);
    requests.push(pathname);
    switch (pathname) {
      case '/.well-known/openid-configuration':
        if (scenario !== 'discovery_hang') sendJson(res, 200, metadata());
        return;
      case '/jwks':
        if (scenario !== 'jwks_hang') sendJson(res, 200, { keys: published.map((key) => key.jwk) });
        return;
      case '/authorize':
        return authorize(searchParams, res);
      case '/token':
        return token(req, res);
      case '/userinfo':
        return userinfo(req, res);
      default:
        sendJson(res, 404, { error: 'not_found' });
    }
  }

  function metadata() {
    return {
      issuer,
      authorization_endpoint: `${url}/authorize`,
      token_endpoint: `${url}/token`,
      jwks_uri: `${url}/jwks`,
      userinfo_endpoint: `${url}/userinfo`,
      scopes_supported: ['openid', 'profile', 'email'],
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code'],
      subject_types_supported: ['public'],
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      authorization_response_iss_parameter_supported: true,
      ...idp.metadataOverrides,
    };
  }

  function authorize(params: URLSearchParams, res: ServerResponse) {
    const redirectUri = params.get('redirect_uri');
    if (params.get('client_id') !== clientId || !redirectUri || !URL.canParse(redirectUri)) {
      sendJson(res, 400, { error: 'invalid_request', error_description: 'unknown client_id or bad redirect_uri' });
      return;
    }
    const back = (answer: Record<string, string>) => {
      const location = new URL(redirectUri);
      const state = params.get('state');
      if (state !== null) location.searchParams.set('state', state);
      location.searchParams.set('iss', scenario === 'iss_param_mismatch' ? otherIssuer : issuer);
      for (const [name, value] of Object.entries(answer)) location.searchParams.set(name, value);
      res.writeHead(302, { location: location.href }).end();
    };
    const codeChallenge = params.get('code_challenge');
    if (scenario === 'access_denied') {
      back({ error: 'access_denied', error_description: 'The user is not assigned to this application.' });
    } else if (params.get('response_type') !== 'code' || params.get('code_challenge_method') !== 'S256' || !codeChallenge) {
      back({ error: 'invalid_request', error_description: 'response_type=code and PKCE S256 are required' });
    } else {
      const code = randomBytes(24).toString('base64url');
      issued.push(code);
      authorizations.set(code, { redirectUri, codeChallenge, nonce: params.get('nonce'), scope: params.get('scope') ?? '' });
      back({ code });
    }
  }

  async function token(req: IncomingMessage, res: ServerResponse) {
    const form = new URLSearchParams(await text(req));
    switch (scenario) {
      case 'token_hang':
        return;
      case 'token_http_500':
        res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>Internal Server Error</h1>');
        return;
      case 'token_invalid_grant':
      case 'token_invalid_client':
        sendJson(res, 400, { error: scenario.slice('token_'.length), error_description: 'refused by the hostile IdP' });
        return;
    }
    if (!clientAuthenticated(req, form)) {
      sendJson(res, 401, { error: 'invalid_client' });
      return;
    }
    const code = form.get('code') ?? '';
    const authorization = authorizations.get(code);
    authorizations.delete(code);
    const verifier = form.get('code_verifier') ?? '';
    if (
      !authorization ||
      form.get('grant_type') !== 'authorization_code' ||
      form.get('redirect_uri') !== authorization.redirectUri ||
      createHash('sha256').update(verifier).digest('base64url') !== authorization.codeChallenge
    ) {
      sendJson(res, 400, { error: 'invalid_grant' });
      return;
    }
    const accessToken = randomBytes(24).toString('base64url');
    userinfoByAccessToken.set(accessToken, userinfoClaims());
    const signed = await idToken(authorization.nonce);
    issued.push(accessToken, signed);
    sendJson(res, 200, {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 300,
      scope: authorization.scope,
      id_token: signed,
    });
  }

  function clientAuthenticated(req: IncomingMessage, form: URLSearchParams): boolean {
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    tokenAuthMethods.push(basic ? 'client_secret_basic' : 'client_secret_post');
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString();
      const [id, secret] = decoded.split(':').map((part) => decodeURIComponent(part.replaceAll('+', ' ')));
      return id === clientId && secret === clientSecret;
    }
    return form.get('client_id') === clientId && form.get('client_secret') === clientSecret;
  }

  function userinfo(req: IncomingMessage, res: ServerResponse) {
    const accessToken = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const claims = accessToken === undefined ? undefined : userinfoByAccessToken.get(accessToken);
    if (!claims) {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      return;
    }
    sendJson(res, 200, claims);
  }

  function userClaims(): Record<string, unknown> {
    const { sub, email, email_verified = true, given_name, family_name } = user;
    switch (scenario) {
      case 'no_email':
        return { sub, given_name, family_name };
      case 'email_verified_false':
        return { sub, email, email_verified: false, given_name, family_name };
      case 'email_verified_false_string':
        return { sub, email, email_verified: 'false', given_name, family_name };
      default:
        return { sub, email, email_verified, given_name, family_name };
    }
  }

  function userinfoClaims(): Record<string, unknown> {
    const claims = userClaims();
    return scenario === 'userinfo_sub_mismatch' ? { ...claims, sub: `${user.sub}-someone-else` } : claims;
  }

  async function idToken(nonce: string | null): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = { iss: issuer, aud: clientId, iat: now, exp: now + 300, ...userClaims() };
    if (nonce !== null) claims.nonce = nonce;
    switch (scenario) {
      case 'email_only_in_userinfo':
      case 'userinfo_sub_mismatch':
        delete claims.email;
        delete claims.email_verified;
        break;
      case 'wrong_iss':
        claims.iss = otherIssuer;
        break;
      case 'wrong_aud':
        claims.aud = OTHER_CLIENT;
        break;
      case 'expired':
        claims.iat = now - 70 * 60;
        claims.exp = now - 10 * 60;
        break;
      case 'no_iat':
        delete claims.iat;
        break;
      case 'nonce_mismatch':
        claims.nonce = randomBytes(16).toString('base64url');
        break;
      case 'multiple_aud_no_azp':
        claims.aud = [clientId, OTHER_CLIENT];
        break;
      case 'azp_wrong':
        claims.aud = [clientId, OTHER_CLIENT];
        claims.azp = OTHER_CLIENT;
        break;
    }
    Object.assign(claims, idp.customClaims);
    if (scenario === 'alg_none') return new UnsecuredJWT(claims).encode();
    const key = await keyFor(scenario);
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
  }

  async function keyFor(current: HostileScenario): Promise<SigningKey> {
    if (current === 'bad_signature') {
      // Claims the published kid, but the JWKS holds no matching public key.
      attackerKey ??= await newSigningKey(published[0]!.kid);
      return attackerKey;
    }
    if (current === 'rotate_key') {
      if (!rotatedKey) {
        rotatedKey = await newSigningKey();
        // Published only now: a relying party that fetched the JWKS earlier must refetch it.
        published.push(rotatedKey);
      }
      return rotatedKey;
    }
    return published[0]!;
  }

  return idp;
}

async function newSigningKey(kid: string = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}
