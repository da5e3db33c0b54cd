import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { DEFAULT_HOSTILE_USER, startHostileProvider, type HostileScenario } from './hostile.ts';
import { beginLogin, discover, followToCallback, signIn } from './relying-party.ts';

const REDIRECT_URI = 'http://127.0.0.1:9/auth/sso/callback';

async function start(
  t: test.TestContext,
  scenario: HostileScenario = 'ok',
  options?: { timeout?: number; verifySignatures?: boolean },
) {
  const idp = await startHostileProvider();
  t.after(() => idp.close());
  const config = await discover(idp.issuer, idp.clientId, idp.clientSecret, options);
  idp.setScenario(scenario);
  return { idp, config };
}

test('ok: a correct flow passes every openid-client check, signature and UserInfo included', async (t) => {
  const { idp, config } = await start(t);
  const tokens = await signIn(config, REDIRECT_URI);
  const claims = tokens.claims()!;
  assert.equal(claims.iss, idp.issuer);
  assert.equal(claims.email, DEFAULT_HOSTILE_USER.email);
  assert.equal(claims.email_verified, true);
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(userinfo.email, DEFAULT_HOSTILE_USER.email);
  assert.deepEqual(idp.requests, ['/.well-known/openid-configuration', '/authorize', '/token', '/jwks', '/userinfo']);
});

// openid-client's codes are coarse, so the cause's message pins the reason for each refusal.
const REFUSED_ID_TOKENS: [HostileScenario, string, RegExp][] = [
  ['wrong_iss', 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', /"iss"/],
  ['wrong_aud', 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', /"aud"/],
  ['bad_signature', 'OAUTH_INVALID_RESPONSE', /signature verification failed/],
  ['alg_none', 'OAUTH_INVALID_RESPONSE', /"alg"/],
  ['expired', 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED', /"exp"/],
  ['no_iat', 'OAUTH_INVALID_RESPONSE', /"iat" .* missing/],
  ['nonce_mismatch', 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', /"nonce"/],
  ['multiple_aud_no_azp', 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', /untrusted audiences/],
  ['azp_wrong', 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', /"azp"/],
];
for (const [scenario, code, reason] of REFUSED_ID_TOKENS) {
  test(`${scenario}: openid-client refuses the ID token`, async (t) => {
    const { config } = await start(t, scenario);
    await assert.rejects(signIn(config, REDIRECT_URI), refusal(code, reason));
  });
}

test('bad_signature passes openid-client unless enableNonRepudiationChecks is on', async (t) => {
  const { config } = await start(t, 'bad_signature', { verifySignatures: false });
  assert.equal((await signIn(config, REDIRECT_URI)).claims()!.sub, DEFAULT_HOSTILE_USER.sub);
});

test('rotate_key: the new kid is published after the first JWKS fetch; openid-client refetches once its copy is 60 s old', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
  const { idp, config } = await start(t);
  const first = decodeProtectedHeader((await signIn(config, REDIRECT_URI)).id_token!).kid;

  idp.setScenario('rotate_key');
  await assert.rejects(signIn(config, REDIRECT_URI), refusal('OAUTH_KEY_SELECTION_FAILED', /no applicable keys/));
  t.mock.timers.tick(61_000);
  const second = decodeProtectedHeader((await signIn(config, REDIRECT_URI)).id_token!).kid;

  assert.notEqual(second, first);
  assert.equal(idp.requests.filter((path) => path === '/jwks').length, 2);
});

test('a wrong PKCE code_verifier is refused with invalid_grant', async (t) => {
  const { config } = await start(t);
  const login = await beginLogin(config, REDIRECT_URI);
  const callback = await followToCallback(login.url, REDIRECT_URI);
  const checks = { ...login.checks, pkceCodeVerifier: client.randomPKCECodeVerifier() };
  await assert.rejects(client.authorizationCodeGrant(config, callback, checks), { error: 'invalid_grant' });
});

for (const error of ['invalid_grant', 'invalid_client'] as const) {
  test(`token_${error}: the token endpoint answers 400 ${error}`, async (t) => {
    const { config } = await start(t, `token_${error}`);
    await assert.rejects(signIn(config, REDIRECT_URI), { error, status: 400 });
  });
}

test('token_http_500: the token endpoint answers 500', async (t) => {
  const { config } = await start(t, 'token_http_500');
  await assert.rejects(signIn(config, REDIRECT_URI), { code: 'OAUTH_RESPONSE_IS_NOT_CONFORM' });
});

for (const scenario of ['token_hang', 'jwks_hang'] as const) {
  test(`${scenario}: the endpoint never answers, so the request times out`, async (t) => {
    const { config } = await start(t, scenario, { timeout: 0.2 });
    await assert.rejects(signIn(config, REDIRECT_URI), { code: 'OAUTH_TIMEOUT' });
  });
}

test('discovery_hang: discovery never answers, so it times out', async (t) => {
  const idp = await startHostileProvider();
  t.after(() => idp.close());
  idp.setScenario('discovery_hang');
  await assert.rejects(discover(idp.issuer, idp.clientId, idp.clientSecret, { timeout: 0.2 }), { code: 'OAUTH_TIMEOUT' });
});

test('access_denied: the authorization response carries the error, the state and iss', async (t) => {
  const { idp, config } = await start(t, 'access_denied');
  const login = await beginLogin(config, REDIRECT_URI);
  const callback = await followToCallback(login.url, REDIRECT_URI);
  assert.equal(callback.searchParams.get('state'), login.checks.expectedState);
  assert.equal(callback.searchParams.get('iss'), idp.issuer);
  await assert.rejects(client.authorizationCodeGrant(config, callback, login.checks), { error: 'access_denied' });
});

test('iss_param_mismatch: openid-client refuses the authorization response', async (t) => {
  const { config } = await start(t, 'iss_param_mismatch');
  await assert.rejects(signIn(config, REDIRECT_URI), refusal('OAUTH_INVALID_RESPONSE', /"iss" \(issuer\) response parameter/));
});

test('claim scenarios put the email and email_verified where they say', async (t) => {
  const { idp, config } = await start(t);
  const claimsFor = async (scenario: HostileScenario) => {
    idp.setScenario(scenario);
    const tokens = await signIn(config, REDIRECT_URI);
    const idToken = tokens.claims()!;
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, client.skipSubjectCheck);
    return { idToken, userinfo };
  };

  const noEmail = await claimsFor('no_email');
  assert.equal(noEmail.idToken.email, undefined);
  assert.equal(noEmail.userinfo.email, undefined);

  const onlyUserinfo = await claimsFor('email_only_in_userinfo');
  assert.equal(onlyUserinfo.idToken.email, undefined);
  assert.equal(onlyUserinfo.userinfo.email, DEFAULT_HOSTILE_USER.email);
  assert.equal(onlyUserinfo.userinfo.sub, onlyUserinfo.idToken.sub);

  assert.equal((await claimsFor('email_verified_false')).idToken.email_verified, false);
  assert.equal((await claimsFor('email_verified_false_string')).idToken.email_verified, 'false');

  const mismatch = await claimsFor('userinfo_sub_mismatch');
  assert.equal(mismatch.idToken.email, undefined);
  assert.notEqual(mismatch.userinfo.sub, mismatch.idToken.sub);
  assert.equal(mismatch.userinfo.email, DEFAULT_HOSTILE_USER.email);
});

test('userinfo_sub_mismatch: openid-client refuses UserInfo for another subject', async (t) => {
  const { config } = await start(t, 'userinfo_sub_mismatch');
  const tokens = await signIn(config, REDIRECT_URI);
  await assert.rejects(
    client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub),
    refusal('OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', /"sub"/),
  );
});

test('customClaims and a scenario user override the ID token claims', async (t) => {
  const { idp, config } = await start(t);
  const bob = { sub: 'bob-sub', email: 'bob@example.com', given_name: 'Bob', family_name: 'Stone' };
  idp.setScenario('ok', bob);
  idp.customClaims = { upn: 'bob@corp.example', family_name: 'Override' };
  const claims = (await signIn(config, REDIRECT_URI)).claims()!;
  assert.equal(claims.sub, bob.sub);
  assert.equal(claims.upn, 'bob@corp.example');
  assert.equal(claims.family_name, 'Override');
});

function refusal(code: string, reason: RegExp) {
  return (err: { code?: string; cause?: { message?: string } }) => {
    assert.equal(err.code, code);
    assert.match(err.cause?.message ?? '', reason);
    return true;
  };
}
