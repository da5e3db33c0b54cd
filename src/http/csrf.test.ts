import assert from 'node:assert/strict';
import type { InjectOptions } from 'fastify';
import { after, before, describe, test } from 'node:test';
import { getTestInstance, PASSWORD, type Seeded, type TestInstance } from '../../test/instance.ts';
import { SESSION_COOKIE } from './auth.ts';

type Method = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

describe('CSRF: cookie-authenticated state changes must come from our origin (SPEC 8.2)', () => {
  let t: TestInstance;
  let seeded: Seeded;
  let member: { id: string };
  before(async () => {
    t = await getTestInstance();
    seeded = await t.seedTenant();
    member = await t.seedUser(seeded.tenant.id, { email: 'member@example.com' });
  });
  after(() => t.close());

  /** Exactly the headers given: no Origin is added for us. */
  const raw = (options: InjectOptions) => t.server.app.inject(options);

  const requests = (): { method: Method; url: string; payload?: object }[] => [
    { method: 'POST', url: '/api/members/invitations', payload: { email: `csrf-${Math.random()}@example.com`, role: 'member' } },
    { method: 'PATCH', url: `/api/members/${member.id}`, payload: { role: 'member' } },
    { method: 'DELETE', url: '/api/members/invitations/00000000-0000-0000-0000-000000000000' },
    { method: 'PUT', url: '/api/integrations/sso', payload: {} },
    { method: 'POST', url: '/api/auth/logout' },
  ];

  function assertRejected(response: { statusCode: number; json(): { error?: string } }, label: string) {
    assert.equal(response.statusCode, 403, label);
    assert.equal(response.json().error, 'csrf_rejected', label);
  }

  function assertPassed(response: { statusCode: number; body: string }, label: string) {
    const error = response.body ? (JSON.parse(response.body) as { error?: string }).error : undefined;
    assert.notEqual(error, 'csrf_rejected', label);
    assert.ok(response.statusCode < 500, label);
  }

  test('a cookie-authenticated POST, PUT, PATCH or DELETE without Origin and Referer is refused with 403 csrf_rejected', async () => {
    for (const request of requests()) {
      const response = await raw({ ...request, cookies: { [SESSION_COOKIE]: seeded.admin.token } });
      assertRejected(response, `${request.method} ${request.url}`);
    }
    // The session survived the refused logout.
    assert.equal((await t.inject({ method: 'GET', url: '/api/me', token: seeded.admin.token })).statusCode, 200);
  });

  test('a foreign Origin or Referer is refused', async () => {
    for (const headers of [
      { origin: 'https://evil.example' },
      { origin: 'http://localhost:3001' },
      { origin: 'https://localhost:3000' },
      { origin: 'null' },
      { referer: 'https://evil.example/page' },
      { referer: 'http://localhost:3000.evil.example/x' },
      { referer: 'not a url' },
      // Origin, when present, decides: a matching Referer does not rescue a foreign Origin.
      { origin: 'https://evil.example', referer: 'http://localhost:3000/team' },
    ]) {
      for (const request of requests()) {
        const response = await raw({ ...request, headers, cookies: { [SESSION_COOKIE]: seeded.admin.token } });
        assertRejected(response, `${request.method} ${request.url} ${JSON.stringify(headers)}`);
      }
    }
  });

  test('our Origin passes', async () => {
    for (const request of requests().slice(0, 4)) {
      const response = await raw({ ...request, headers: { origin: t.publicUrl }, cookies: { [SESSION_COOKIE]: seeded.admin.token } });
      assertPassed(response, `${request.method} ${request.url}`);
    }
    const invited = await raw({ ...requests()[0]!, headers: { origin: t.publicUrl }, cookies: { [SESSION_COOKIE]: seeded.admin.token } });
    assert.equal(invited.statusCode, 201);
  });

  test('a Referer from our origin passes when there is no Origin', async () => {
    const response = await raw({
      ...requests()[0]!,
      headers: { referer: `${t.publicUrl}/team?tab=invites` },
      cookies: { [SESSION_COOKIE]: seeded.admin.token },
    });
    assert.equal(response.statusCode, 201);
  });

  test('bearer requests are exempt', async () => {
    for (const headers of [{}, { origin: 'https://evil.example' }]) {
      const response = await raw({ ...requests()[0]!, headers: { ...headers, authorization: `Bearer ${seeded.admin.token}` } });
      assert.equal(response.statusCode, 201, JSON.stringify(headers));
    }
  });

  test('a cookie-authenticated logout from our origin ends the session', async () => {
    const token = await t.login(seeded.admin.email, PASSWORD);
    const response = await raw({ method: 'POST', url: '/api/auth/logout', headers: { origin: t.publicUrl }, cookies: { [SESSION_COOKIE]: token } });
    assert.equal(response.statusCode, 204);
    assert.equal((await t.inject({ method: 'GET', url: '/api/me', token })).statusCode, 401);
  });

  test('reads are not subject to the check', async () => {
    const response = await raw({ method: 'GET', url: '/api/me', headers: { origin: 'https://evil.example' }, cookies: { [SESSION_COOKIE]: seeded.admin.token } });
    assert.equal(response.statusCode, 200);
  });
});
