import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { ENTRA_DIRECTORY_ID, startProvider, type IdpProfile, type TestIdpOptions } from './provider.ts';
import { beginLogin, discover, followToCallback, signIn } from './relying-party.ts';

const REDIRECT_URI = 'http://127.0.0.1:9/auth/sso/callback';
const CLIENT = { client_id: 'jams-app', client_secret: 'app-secret', redirect_uris: [REDIRECT_URI] };
const ALICE = { sub: 'alice-sub', email: 'alice@example.com', given_name: 'Alice', family_name: 'Martin' };
const BOB = { sub: 'bob-sub', email: 'bob@example.com' };

async function start(t: test.TestContext, options: Partial<TestIdpOptions> & { profile: IdpProfile }) {
  const idp = await startProvider({ clients: [CLIENT], users: [ALICE], ...options });
  t.after(() => idp.close());
  return idp;
}

const EXPECTED_ISSUER: Record<IdpProfile, (url: string) => string> = {
  auth0: (url) => `${url}/`,
  okta: (url) => `${url}/oauth2/default`,
  entra: (url) => `${url}/${ENTRA_DIRECTORY_ID}/v2.0`,
  google: (url) => url,
};

for (const profile of ['auth0', 'okta', 'entra', 'google'] as const) {
  test(`${profile}: discovery reports the IdP's issuer and a PKCE code flow signs the user in`, async (t) => {
    const idp = await start(t, { profile });
    assert.equal(idp.issuer, EXPECTED_ISSUER[profile](idp.url));

    const metadata = await (await fetch(`${idp.typedIssuer}/.well-known/openid-configuration`)).json();
    assert.equal(metadata.issuer, idp.issuer);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);

    const config = await discover(idp.typedIssuer, CLIENT.client_id, CLIENT.client_secret);
    assert.equal(config.serverMetadata().issuer, idp.issuer);
    idp.setNextLogin(ALICE.sub);
    const tokens = await signIn(config, REDIRECT_URI);

    assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'RS256');
    const claims = tokens.claims()!;
    assert.equal(claims.iss, idp.issuer);
    assert.equal(claims.sub, ALICE.sub);
    assert.equal(claims.email, ALICE.email);
    assert.equal(claims.given_name, ALICE.given_name);
    assert.equal(claims.family_name, ALICE.family_name);
    if (profile === 'entra') assert.equal('email_verified' in claims, false);
    else assert.equal(claims.email_verified, true);
  });
}

test('with claimsInIdToken false the email comes only from UserInfo', async (t) => {
  const idp = await start(t, { profile: 'okta', claimsInIdToken: false });
  const config = await discover(idp.issuer, CLIENT.client_id, CLIENT.client_secret);
  idp.setNextLogin(ALICE.sub);
  const tokens = await signIn(config, REDIRECT_URI);

  const claims = tokens.claims()!;
  assert.equal(claims.email, undefined);
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(userinfo.email, ALICE.email);
  assert.equal(userinfo.email_verified, true);
});

test('a client without a secret is a public client that signs in with PKCE alone', async (t) => {
  const publicClient = { client_id: 'jams-public', redirect_uris: [REDIRECT_URI] };
  const idp = await start(t, { profile: 'google', clients: [publicClient] });
  const config = await discover(idp.issuer, publicClient.client_id);
  idp.setNextLogin(ALICE.sub);
  const tokens = await signIn(config, REDIRECT_URI);
  assert.equal(tokens.claims()!.sub, ALICE.sub);
});

test('without a next login the IdP shows an HTML form that signs in the user whose email is typed', async (t) => {
  const idp = await start(t, { profile: 'okta', users: [ALICE, BOB] });
  const config = await discover(idp.issuer, CLIENT.client_id, CLIENT.client_secret);
  const browser = cookieKeepingFetch();

  const signInWithForm = async (email: string) => {
    const login = await beginLogin(config, REDIRECT_URI, { login_hint: email });
    const toForm = await browser(login.url);
    assert.equal(toForm.status, 303);
    const formPage = await browser(new URL(toForm.headers.get('location')!, idp.url));
    const html = await formPage.text();
    assert.equal(formPage.status, 200);
    assert.match(html, /<label for="email">Email<\/label>/);
    assert.match(html, /<button type="submit">Sign in<\/button>/);
    assert.match(html, new RegExp(`value="${email}"`));
    const action = new URL(/action="([^"]+)"/.exec(html)![1]!, idp.url);

    const unknown = await browser(action, { email: 'nobody@example.com' });
    assert.equal(unknown.status, 400);
    assert.match(await unknown.text(), /role="alert"/);

    let response = await browser(action, { email: email.toUpperCase() });
    while (!response.headers.get('location')?.startsWith(REDIRECT_URI)) {
      assert.equal(response.status, 303);
      response = await browser(new URL(response.headers.get('location')!, idp.url));
    }
    const tokens = await client.authorizationCodeGrant(config, new URL(response.headers.get('location')!), login.checks);
    return tokens.claims()!.sub;
  };

  assert.equal(await signInWithForm(ALICE.email), ALICE.sub);
  // The same browser is asked again, and may sign in as someone else.
  assert.equal(await signInWithForm(BOB.email), BOB.sub);
});

test('denyNext answers the next authorization request with access_denied, then sign-in works again', async (t) => {
  const idp = await start(t, { profile: 'okta' });
  const config = await discover(idp.issuer, CLIENT.client_id, CLIENT.client_secret);
  idp.setNextLogin(ALICE.sub);
  idp.denyNext();

  const login = await beginLogin(config, REDIRECT_URI);
  const callback = await followToCallback(login.url, REDIRECT_URI);
  assert.equal(callback.searchParams.get('error'), 'access_denied');
  assert.equal(callback.searchParams.get('iss'), idp.issuer);
  await assert.rejects(client.authorizationCodeGrant(config, callback, login.checks), { error: 'access_denied' });

  assert.equal((await signIn(config, REDIRECT_URI)).claims()!.sub, ALICE.sub);
});

test('rotateSigningKey signs new ID tokens with a new kid and keeps or drops the old key', async (t) => {
  const idp = await start(t, { profile: 'auth0' });
  idp.setNextLogin(ALICE.sub);
  const kidOfNextToken = async () => {
    // A fresh configuration, so that openid-client fetches the current JWKS to check the signature.
    const config = await discover(idp.issuer, CLIENT.client_id, CLIENT.client_secret);
    return decodeProtectedHeader((await signIn(config, REDIRECT_URI)).id_token!).kid;
  };
  const publishedKids = async () => {
    const jwks = await (await fetch(`${idp.url}/jwks`)).json();
    return jwks.keys.map((key: { kid: string }) => key.kid);
  };

  const first = await kidOfNextToken();
  await idp.rotateSigningKey();
  const second = await kidOfNextToken();
  assert.notEqual(second, first);
  assert.deepEqual(await publishedKids(), [second, first]);

  await idp.rotateSigningKey({ keepOld: false });
  const third = await kidOfNextToken();
  assert.deepEqual(await publishedKids(), [third]);
});

/** A minimal browser: fetch without following redirects, sending back cookies by their path. */
function cookieKeepingFetch() {
  const jar = new Map<string, { value: string; path: string }>();
  return async (url: URL, form?: Record<string, string>) => {
    const cookie = [...jar]
      .filter(([, { path }]) => `${url.pathname}/`.startsWith(path.endsWith('/') ? path : `${path}/`))
      .map(([name, { value }]) => `${name}=${value}`)
      .join('; ');
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      body: form ? new URLSearchParams(form) : undefined,
      redirect: 'manual',
      headers: { cookie },
    });
    for (const setCookie of response.headers.getSetCookie()) {
      const [pair, ...attributes] = setCookie.split(';');
      const path = attributes.map((a) => /^\s*path=(.*)$/i.exec(a)?.[1]).find(Boolean) ?? '/';
      jar.set(pair!.slice(0, pair!.indexOf('=')), { value: pair!.slice(pair!.indexOf('=') + 1), path });
    }
    return response;
  };
}
