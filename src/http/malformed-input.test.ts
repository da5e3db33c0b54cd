import assert from 'node:assert/strict';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { after, before, describe, test } from 'node:test';
import { getTestInstance, type Seeded, type TestInstance } from '../../test/instance.ts';
import { isErrorCode } from '../errors/catalogue.ts';
import { SESSION_COOKIE } from './auth.ts';

interface Route {
  method: string;
  url: string;
}

/**
 * Every route the app registers, read from Fastify's route tree, so that a
 * route added later is covered without touching this test.
 */
function routesOf(app: FastifyInstance): Route[] {
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const url = (stack[depth - 1] ?? '') + match[2]!;
    stack.length = depth;
    stack.push(url);
    for (const method of match[3]?.split(', ') ?? []) if (method !== 'HEAD' && method !== 'OPTIONS') routes.push({ method, url });
  }
  return routes;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const JSON_TYPE = 'application/json';
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const everyField = ['email', 'password', 'tenant', 'role', 'name', 'firstName', 'lastName', 'token', 'tenantName', 'tenantSlug', 'expiresInDays'];

/** Bodies nobody should send: [label, content-type or undefined, raw body]. */
const BODIES: [string, string | undefined, string][] = [
  ['invalid JSON', JSON_TYPE, '{"email": "a@b.co",'],
  ['a JSON array', JSON_TYPE, '[{"email":"a@b.co"}]'],
  ['a JSON string', JSON_TYPE, '"a@b.co"'],
  ['null', JSON_TYPE, 'null'],
  ['a number', JSON_TYPE, '42'],
  ['true', JSON_TYPE, 'true'],
  ['an empty object', JSON_TYPE, '{}'],
  ['numbers where strings belong', JSON_TYPE, JSON.stringify(Object.fromEntries(everyField.map((field, i) => [field, i])))],
  ['a number for each field alone', JSON_TYPE, JSON.stringify({ email: 12345, password: 12345 })],
  ['a string where a number belongs', JSON_TYPE, JSON.stringify({ name: 'bot', expiresInDays: '30' })],
  ['booleans and nulls', JSON_TYPE, JSON.stringify({ email: true, password: null, firstName: false, lastName: null, role: null })],
  ['nested objects', JSON_TYPE, JSON.stringify({ email: { $gt: '' }, password: { a: { b: { c: [1, 2, { d: 3 }] } } }, role: ['admin'] })],
  ['deep nesting', JSON_TYPE, nested(10_000)],
  ['huge strings within the body limit', JSON_TYPE, JSON.stringify({ email: `${'a'.repeat(60_000)}@x.io`, password: 'p'.repeat(2000) })],
  ['an oversized body (> 64 KiB)', JSON_TYPE, JSON.stringify({ email: 'a@b.co', padding: 'x'.repeat(70 * 1024) })],
  [
    'unknown fields',
    JSON_TYPE,
    JSON.stringify({ ...Object.fromEntries(everyField.map((field) => [field, 'member'])), email: 'a@b.co', isAdmin: true, tenantId: 'x' }),
  ],
  ['a NUL in every string', JSON_TYPE, JSON.stringify(Object.fromEntries(everyField.map((field) => [field, `a\u0000@b.co`])))],
  ['a NUL in the email alone', JSON_TYPE, JSON.stringify({ email: 'nul\u0000@b.co' })],
  ['a NUL in the email of a sign-in', JSON_TYPE, JSON.stringify({ email: 'nul\u0000@b.co', password: 'x' })],
  ['lone surrogates', JSON_TYPE, '{"email":"\\ud800@b.co","password":"\\udfff"}'],
  ['__proto__', JSON_TYPE, '{"__proto__":{"role":"admin"},"email":"a@b.co"}'],
  ['constructor.prototype', JSON_TYPE, '{"constructor":{"prototype":{"role":"admin"}},"email":"a@b.co"}'],
  ['an empty body', JSON_TYPE, ''],
  ['whitespace only', JSON_TYPE, '   \n'],
  ['text/plain', 'text/plain', '{"email":"a@b.co"}'],
  ['a form', 'application/x-www-form-urlencoded', 'email=a%40b.co&password=x'],
  ['multipart', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.co\r\n--x--\r\n'],
  ['JSON in another charset', 'application/json; charset=utf-16', '{"email":"a@b.co"}'],
  ['a bogus content-type', 'nonsense', '{"email":"a@b.co"}'],
  ['no content-type', undefined, '{"email":"a@b.co"}'],
  ['binary', 'application/octet-stream', '\u0000\u0001\u00ff'],
];

/** Path parameters nobody should send (already URL-encoded). */
const PARAMS = [
  'x',
  '00000000-0000-0000-0000-000000000000',
  '%00',
  'a%00b',
  '..%2F..%2Fetc%2Fpasswd',
  '%E2%82%AC%F0%9F%98%80',
  "'%20OR%201%3D1--",
  '%',
  '%ZZ',
  '%C0%AF',
  '%FF',
  'a'.repeat(150),
  'a'.repeat(600),
];

const QUERIES = ['', '?tenant=%00', '?a=%ZZ', '?a[]=1&a[b]=2', `?x=${'y'.repeat(5000)}`, '?tenant=x&tenant=y&login_hint=%00&return_to=//evil.example'];

describe('bad input of any shape is answered with a 4xx and a code, never a 5xx (SPEC 8.2)', () => {
  let t: TestInstance;
  let seeded: Seeded;
  let routes: Route[];
  before(async () => {
    // Sign-in rate limits would answer 429 before the body is looked at.
    t = await getTestInstance({ env: { RATE_LIMIT_SIGNIN_PER_MINUTE: '1000000', RATE_LIMIT_FAILED_SIGNINS_PER_EMAIL: '1000000' } });
    seeded = await t.seedTenant();
    routes = routesOf(t.server.app);
  });
  after(() => t.close());

  /** An admin's session; a fresh one for logout, so that a logout among the requests does not end the next one's. */
  async function credentials(mode: 'none' | 'bearer' | 'cookie', route: Route): Promise<Partial<InjectOptions>> {
    if (mode === 'none') return {};
    const token =
      route.url === '/api/auth/logout' ? (await t.ctx.sessions.create(seeded.tenant.id, seeded.admin.id, 'password')).token : seeded.admin.token;
    return mode === 'bearer' ? { headers: { authorization: `Bearer ${token}` } } : { cookies: { [SESSION_COOKIE]: token }, headers: {} };
  }

  const failures: string[] = [];
  function check(label: string, response: LightMyRequestResponse) {
    const problem = problemWith(response);
    if (problem) failures.push(`${label}: ${problem}`);
  }

  function problemWith(response: LightMyRequestResponse): string | undefined {
    if (response.statusCode >= 500) return `${response.statusCode} ${response.body.slice(0, 200)}`;
    if (response.statusCode < 400) return undefined;
    let body: { error?: unknown; message?: unknown };
    try {
      body = response.json();
    } catch {
      return `${response.statusCode} is not JSON: ${response.body.slice(0, 200)}`;
    }
    if (!isErrorCode(body.error)) return `${response.statusCode} without a catalogue code: ${response.body.slice(0, 200)}`;
    if (typeof body.message !== 'string') return `${response.statusCode} without a message`;
    if (/\n\s+at /.test(response.body)) return `${response.statusCode} leaks a stack trace`;
    return undefined;
  }

  const fill = (url: string, value: string) => url.replace(/:[A-Za-z]+/g, value);

  test('the route list is read from the app', () => {
    const listed = routes.map((route) => `${route.method} ${route.url}`);
    for (const expected of ['POST /api/auth/password', 'POST /api/auth/discover', 'PATCH /api/members/:id', 'POST /api/invitations/:token/accept', 'GET /healthz']) {
      assert.ok(listed.includes(expected), `${expected} in ${listed.join(', ')}`);
    }
  });

  test('every state-changing route answers malformed bodies, as an admin and unauthenticated, with a 4xx code', async () => {
    const changing = routes.filter((route) => STATE_CHANGING.has(route.method));
    assert.ok(changing.length >= 10, 'the state-changing routes were found');
    for (const route of changing) {
      for (const [label, contentType, payload] of BODIES) {
        for (const mode of ['none', 'bearer', 'cookie'] as const) {
          const auth = await credentials(mode, route);
          const response = await t.inject({
            method: route.method as 'POST',
            url: fill(route.url, '00000000-0000-0000-0000-000000000000'),
            payload,
            ...auth,
            headers: { ...auth.headers, origin: t.publicUrl, ...(contentType ? { 'content-type': contentType } : {}) },
          });
          check(`${route.method} ${route.url} with ${label} (${mode})`, response);
        }
      }
    }
    assert.deepEqual(failures.splice(0), []);
  });

  test('every route answers odd path parameters and query strings with a code, never a 5xx', async () => {
    for (const route of routes) {
      const values = route.url.includes(':') ? PARAMS : ['-'];
      // Each odd parameter without a query, then each odd query with a plain parameter.
      const urls = [...values.map((value) => fill(route.url, value)), ...QUERIES.map((query) => fill(route.url, values[0]!) + query)];
      for (const url of urls) {
        for (const mode of ['none', 'bearer'] as const) {
          const auth = await credentials(mode, route);
          const response = await t.inject({
            method: route.method as 'GET',
            url,
            ...(STATE_CHANGING.has(route.method) ? { payload: {} } : {}),
            ...auth,
            headers: { ...auth.headers, origin: t.publicUrl },
          });
          check(`${route.method} ${url.slice(0, 100)} (${mode})`, response);
        }
      }
    }
    assert.deepEqual(failures.splice(0), []);
  });

  test('garbage credentials are answered 401 or 403 with a code, never a 5xx', async () => {
    const header = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const kid = JSON.parse(Buffer.from(seeded.admin.token.split('.')[0]!, 'base64url').toString()).kid as string;
    const garbage = [
      'x',
      'a.b.c',
      '...',
      `${header({ alg: 'none' })}.${header({ sub: 'x' })}.`,
      `${header({ alg: 'EdDSA', kid: 42 })}.${header({})}.AAAA`,
      `${header({ alg: 'EdDSA', kid: { a: 1 } })}.${header({})}.AAAA`,
      `${header({ alg: 'EdDSA', kid: 'k'.repeat(5000) })}.${header({})}.AAAA`,
      `${header({ alg: 'HS256', kid })}.${header({ sub: 'x', tid: 'y', typ: 'session' })}.AAAA`,
      `${header({ alg: 'EdDSA', kid })}.%%%.AAAA`,
      'ey'.repeat(3000),
    ];
    const protectedRoutes = routes.filter((route) => route.url.startsWith('/api/') && !route.url.startsWith('/api/auth/') && route.method === 'GET');
    assert.ok(protectedRoutes.length > 0);
    for (const route of protectedRoutes) {
      for (const token of garbage) {
        for (const request of [
          { headers: { authorization: `Bearer ${token}` } },
          { headers: { authorization: token } },
          { headers: { authorization: `Basic ${token}` } },
          { cookies: { [SESSION_COOKIE]: token } },
          { headers: { cookie: `${SESSION_COOKIE}=${token}%ZZ; ${SESSION_COOKIE}=x` } },
        ]) {
          const response = await t.inject({ method: 'GET', url: fill(route.url, 'x'), ...request });
          check(`GET ${route.url} with ${JSON.stringify(request).slice(0, 80)}`, response);
        }
      }
    }
    assert.deepEqual(failures.splice(0), []);
  });
});
