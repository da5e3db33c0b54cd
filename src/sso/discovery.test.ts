import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../config.ts';
import { normalizeIssuer, warningsFor, type IdpMetadata } from './discovery.ts';
import { safeReturnTo } from './flow.ts';

test('issuer normalisation trims, strips /.well-known/openid-configuration and trailing slashes, and lower-cases the host', () => {
  const cases: [string, string][] = [
    ['https://login.microsoftonline.com/3f2c/v2.0', 'https://login.microsoftonline.com/3f2c/v2.0'],
    ['  https://acme.okta.com/oauth2/default/  ', 'https://acme.okta.com/oauth2/default'],
    ['https://acme.eu.auth0.com/', 'https://acme.eu.auth0.com'],
    ['https://accounts.google.com/.well-known/openid-configuration', 'https://accounts.google.com'],
    ['https://kc.example.com/realms/x/.well-known/openid-configuration/', 'https://kc.example.com/realms/x'],
    ['HTTPS://Acme.Okta.COM:443/oauth2/default//', 'https://acme.okta.com/oauth2/default'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
  ];
  for (const [typed, normalised] of cases) assert.equal(normalizeIssuer(typed), normalised, typed);
});

test('an issuer that is not a plain http(s) URL is refused with issuer_invalid', () => {
  for (const typed of ['', 'acme.okta.com', 'ftp://x.example', 'https://x.example/?a=1', 'https://x.example?', 'https://x.example/#f', 'https://u:p@x.example', 'javascript:alert(1)']) {
    assert.throws(() => normalizeIssuer(typed), { code: 'issuer_invalid' }, typed);
  }
});

const metadata = (extra: Record<string, unknown> = {}): IdpMetadata => ({
  issuer: 'https://x',
  authorization_endpoint: 'https://x/a',
  token_endpoint: 'https://x/t',
  jwks_uri: 'https://x/j',
  code_challenge_methods_supported: ['S256'],
  ...extra,
});

test('an Entra issuer without /v2.0 is saved with the entra_v1_issuer warning', () => {
  const codes = (issuer: string) => warningsFor(issuer, 'openid profile email', metadata()).map((warning) => warning.code);
  assert.deepEqual(codes('https://login.microsoftonline.com/3f2c8a1e-6b4d-4e7a-9c15-8d0b2f6e4a71'), ['entra_v1_issuer']);
  assert.deepEqual(codes('https://sts.windows.net/3f2c8a1e-6b4d-4e7a-9c15-8d0b2f6e4a71'), ['entra_v1_issuer']);
  assert.deepEqual(codes('https://login.microsoftonline.com/3f2c8a1e-6b4d-4e7a-9c15-8d0b2f6e4a71/v2.0'), []);
  assert.deepEqual(codes('https://acme.okta.com/oauth2/default'), []);
});

test('warnings name an http: issuer, scopes without email and an IdP without S256 PKCE', () => {
  const warnings = warningsFor('http://127.0.0.1:9000', 'openid profile', metadata({ code_challenge_methods_supported: undefined }));
  assert.deepEqual(
    warnings.map((warning) => warning.code),
    ['insecure_issuer', 'scopes_without_email', 'no_pkce_s256'],
  );
  for (const warning of warnings) assert.ok(warning.message.length > 20);
});

test('return_to keeps same-origin paths and drops everything else', () => {
  assert.equal(safeReturnTo('/team'), '/team');
  assert.equal(safeReturnTo('/integrations/sso?x=1#y'), '/integrations/sso?x=1#y');
  for (const value of [undefined, '', 'team', '//evil.example', '/\\evil.example', '\\\\evil.example', '/\t/evil.example', '/\n/evil.example', 'https://evil.example', 'javascript:alert(1)', `/${'a'.repeat(2048)}`]) {
    assert.equal(safeReturnTo(value), null, JSON.stringify(value));
  }
});

test('calls to an IdP get a 10 s budget by default, and a budget over 15 s is refused at start-up', () => {
  assert.equal(loadConfig({}).ssoTimeoutMs, 10_000);
  assert.equal(loadConfig({ SSO_TIMEOUT_MS: '2500' }).ssoTimeoutMs, 2_500);
  assert.throws(() => loadConfig({ SSO_TIMEOUT_MS: '20000' }), ConfigError);
});
