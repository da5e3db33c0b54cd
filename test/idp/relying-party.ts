import * as client from 'openid-client';

/**
 * Discovers an issuer over loopback http with openid-client, as a confidential (Basic) or public
 * client. ID token signatures are checked against the JWKS unless `verifySignatures` is false:
 * openid-client skips that check for tokens from the token endpoint unless told otherwise.
 */
export function discover(
  issuer: string,
  clientId: string,
  clientSecret?: string,
  { timeout, verifySignatures = true }: { timeout?: number; verifySignatures?: boolean } = {},
): Promise<client.Configuration> {
  const auth = clientSecret === undefined ? client.None() : client.ClientSecretBasic(clientSecret);
  const execute = [client.allowInsecureRequests, ...(verifySignatures ? [client.enableNonRepudiationChecks] : [])];
  return client.discovery(new URL(issuer), clientId, undefined, auth, { execute, timeout });
}

export interface PendingLogin {
  url: URL;
  checks: { pkceCodeVerifier: string; expectedState: string; expectedNonce: string; idTokenExpected: true };
}

/** Builds an authorization URL with PKCE S256, state and nonce, and remembers what to check on return. */
export async function beginLogin(
  config: client.Configuration,
  redirectUri: string,
  extra: Record<string, string> = {},
): Promise<PendingLogin> {
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const expectedState = client.randomState();
  const expectedNonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: expectedState,
    nonce: expectedNonce,
    ...extra,
  });
  return { url, checks: { pkceCodeVerifier, expectedState, expectedNonce, idTokenExpected: true } };
}

/** Follows redirects with plain fetch and no cookies until one points at `redirectUri`. */
export async function followToCallback(start: URL, redirectUri: string): Promise<URL> {
  let next = start;
  for (let hop = 0; hop < 5; hop++) {
    const response = await fetch(next, { redirect: 'manual' });
    await response.body?.cancel();
    const location = response.headers.get('location');
    if (location === null) throw new Error(`${next.href} answered ${response.status} without a redirect`);
    next = new URL(location, next);
    if (next.href.startsWith(redirectUri)) return next;
  }
  throw new Error('too many redirects');
}

/** A whole sign-in: authorization request, redirects, then the code exchange with every check. */
export async function signIn(config: client.Configuration, redirectUri: string) {
  const login = await beginLogin(config, redirectUri);
  const callback = await followToCallback(login.url, redirectUri);
  return client.authorizationCodeGrant(config, callback, login.checks);
}
