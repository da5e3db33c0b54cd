import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getTestInstance, type TestInstance } from '../../test/instance.ts';

function assertSecurityHeaders(headers: Record<string, unknown>, label: string) {
  const csp = String(headers['content-security-policy'] ?? '');
  const directives = new Map(
    csp
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...values]) => [name!, values]),
  );
  assert.deepEqual(directives.get('frame-ancestors'), ["'none'"], `${label}: frame-ancestors`);
  assert.deepEqual(directives.get('default-src'), ["'self'"], `${label}: default-src`);
  assert.ok(directives.get('script-src')?.every((source) => source === "'self'"), `${label}: scripts only from ourselves`);
  assert.equal(headers['x-content-type-options'], 'nosniff', `${label}: nosniff`);
  assert.equal(headers['x-powered-by'], undefined, `${label}: no x-powered-by`);
}

describe('security headers (helmet)', () => {
  let t: TestInstance;
  before(async () => {
    t = await getTestInstance();
  });
  after(() => t.close());

  test('every answer carries a CSP with frame-ancestors none and X-Content-Type-Options nosniff', async () => {
    const seeded = await t.seedTenant();
    const responses = {
      health: await t.inject({ method: 'GET', url: '/healthz' }),
      jwks: await t.inject({ method: 'GET', url: '/.well-known/jwks.json' }),
      me: await t.inject({ method: 'GET', url: '/api/me', token: seeded.admin.token }),
      unauthenticated: await t.inject({ method: 'GET', url: '/api/me' }),
      notFound: await t.inject({ method: 'GET', url: '/api/nothing-here' }),
      badBody: await t.inject({ method: 'POST', url: '/api/auth/discover', payload: '{', headers: { 'content-type': 'application/json' } }),
    };
    assert.equal(responses.health.statusCode, 200);
    assert.deepEqual(responses.health.json(), { status: 'ok' });
    for (const [label, response] of Object.entries(responses)) assertSecurityHeaders(response.headers, label);
  });

  test('HSTS is not sent on an http PUBLIC_URL', async () => {
    const response = await t.inject({ method: 'GET', url: '/healthz' });
    assert.equal(response.headers['strict-transport-security'], undefined);
  });

  test('HSTS is sent when PUBLIC_URL is https', async (ctx) => {
    const https = await getTestInstance({ env: { PUBLIC_URL: 'https://id.example.test' } });
    ctx.after(() => https.close());
    const response = await https.inject({ method: 'GET', url: '/healthz' });
    assert.match(String(response.headers['strict-transport-security']), /max-age=\d+/);
    assertSecurityHeaders(response.headers, 'https');
  });
});
