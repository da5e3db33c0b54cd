import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { getTestInstance, PASSWORD, type Seeded, type TestInstance } from '../../test/instance.ts';
import { seedSsoConfig, setEnforce } from '../../test/sso-rows.ts';
import { SESSION_COOKIE } from '../http/auth.ts';
import { SESSION_TTL_MS } from '../sessions/sessions.ts';
import { hashPassword } from './passwords.ts';

const OTHER_PASSWORD = 'another long passphrase 42';

describe('password sign-in (SPEC 2, 8.2)', () => {
  let t: TestInstance;
  let seeded: Seeded;
  before(async () => {
    // The limits have their own tests; here they must not interfere.
    t = await getTestInstance({ env: { RATE_LIMIT_SIGNIN_PER_MINUTE: '10000', RATE_LIMIT_FAILED_SIGNINS_PER_EMAIL: '10000' } });
    seeded = await t.seedTenant();
    await t.seedUser(seeded.tenant.id, { email: 'kevin.casey@example.com' });
    const gone = await t.seedUser(seeded.tenant.id, { email: 'gone@example.com' });
    const deactivated = await t.inject({ method: 'POST', url: `/api/members/${gone.id}/deactivate`, token: seeded.admin.token });
    assert.equal(deactivated.statusCode, 200);
  });
  after(() => t.close());

  const signIn = (payload: Record<string, unknown>) => t.inject({ method: 'POST', url: '/api/auth/password', payload });

  test('a correct password signs in and /api/me answers by cookie and by bearer', async () => {
    const token = await t.login(seeded.admin.email, PASSWORD);
    const byBearer = await t.inject({ method: 'GET', url: '/api/me', token });
    assert.equal(byBearer.statusCode, 200);
    assert.equal(byBearer.json().user.email, seeded.admin.email);
    const byCookie = await t.inject({ method: 'GET', url: '/api/me', cookies: { [SESSION_COOKIE]: token } });
    assert.equal(byCookie.statusCode, 200);
    assert.equal(byCookie.json().tenant.slug, seeded.tenant.slug);
  });

  test('a successful sign-in answers {user, tenant} and sets an HttpOnly, SameSite=Lax cookie that is not Secure on http', async () => {
    const response = await signIn({ email: 'kevin.casey@example.com', password: PASSWORD });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.deepEqual(Object.keys(body).sort(), ['tenant', 'user']);
    assert.deepEqual(Object.keys(body.user).sort(), ['email', 'firstName', 'id', 'lastName', 'role']);
    assert.equal(body.user.email, 'kevin.casey@example.com');
    assert.equal(body.user.role, 'member');
    assert.deepEqual(body.tenant, seeded.tenant);
    const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE);
    assert.ok(cookie, 'session cookie set');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.ok(!cookie.secure, 'not Secure on an http PUBLIC_URL');
    assert.equal(cookie.path, '/');
    assert.equal((cookie.expires as Date).getTime(), Math.floor((t.clock.now() + SESSION_TTL_MS) / 1000) * 1000);
    assert.ok(!response.body.includes(cookie.value), 'the token travels only in the cookie');
  });

  test('emails match case-insensitively, with surrounding whitespace trimmed', async () => {
    const response = await signIn({ email: '  Kevin.Casey@EXAMPLE.com\t', password: PASSWORD });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().user.email, 'kevin.casey@example.com');
  });

  test('an alias, a typo or a different domain is no match', async () => {
    for (const email of ['kevin.casey+work@example.com', 'kevin.casy@example.com', 'kevin.casey@example.org', 'kevincasey@example.com']) {
      const response = await signIn({ email, password: PASSWORD });
      assert.equal(response.statusCode, 401, email);
      assert.equal(response.json().error, 'invalid_credentials', email);
    }
  });

  test('unknown email, wrong password and a deactivated account with a wrong password fail alike with 401 invalid_credentials', async () => {
    const answers = [
      await signIn({ email: 'nobody@example.com', password: PASSWORD }),
      await signIn({ email: 'kevin.casey@example.com', password: OTHER_PASSWORD }),
      await signIn({ email: 'gone@example.com', password: OTHER_PASSWORD }),
    ];
    for (const response of answers) {
      assert.equal(response.statusCode, 401);
      assert.equal(response.json().error, 'invalid_credentials');
      assert.equal(response.cookies.length, 0);
    }
    assert.equal(new Set(answers.map((response) => response.body)).size, 1, 'the three answers are identical');
  });

  test('a deactivated account is refused with account_disabled, but only after the correct password', async () => {
    const response = await signIn({ email: 'gone@example.com', password: PASSWORD });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().error, 'account_disabled');
    assert.equal(response.cookies.length, 0);
  });

  test('password login is refused with sso_enforced when the tenant enforces SSO, and works again when Enforce SSO is off', async () => {
    const tenant = await t.seedTenant();
    await t.seedUser(tenant.tenant.id, { email: 'enforced@example.com' });
    await seedSsoConfig(t.ctx.db, tenant.tenant.id, { name: 'Okta', enforce: true });
    for (const email of ['enforced@example.com', tenant.admin.email]) {
      const response = await signIn({ email, password: PASSWORD });
      assert.equal(response.statusCode, 403, email);
      assert.equal(response.json().error, 'sso_enforced', email);
      assert.equal(response.cookies.length, 0);
    }
    // Passwords were kept, not deleted.
    await setEnforce(t.ctx.db, tenant.tenant.id, false);
    assert.equal((await signIn({ email: 'enforced@example.com', password: PASSWORD })).statusCode, 200);
  });

  test("a wrong password is invalid_credentials even when one of the email's tenants enforces SSO", async () => {
    const plain = await t.seedTenant();
    const enforcing = await t.seedTenant();
    await seedSsoConfig(t.ctx.db, enforcing.tenant.id, { name: 'Entra', enforce: true });
    await t.seedUser(plain.tenant.id, { email: 'split@example.com' });
    await t.seedUser(enforcing.tenant.id, { email: 'split@example.com' });

    const wrong = await signIn({ email: 'split@example.com', password: OTHER_PASSWORD });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().error, 'invalid_credentials');

    // The correct password signs in to the tenant that takes passwords...
    const right = await signIn({ email: 'split@example.com', password: PASSWORD });
    assert.equal(right.statusCode, 200);
    assert.equal(right.json().tenant.slug, plain.tenant.slug);
    // ...and is refused for the one that enforces SSO.
    const chosen = await signIn({ email: 'split@example.com', password: PASSWORD, tenant: enforcing.tenant.slug });
    assert.equal(chosen.statusCode, 403);
    assert.equal(chosen.json().error, 'sso_enforced');
  });

  test('an email in several tenants is asked to choose (409 tenant_choice_required), only after the password is verified; tenant then selects', async () => {
    const first = await t.seedTenant({ name: 'Alpha Co' });
    const second = await t.seedTenant({ name: 'Beta Co' });
    await t.seedUser(first.tenant.id, { email: 'both@example.com' });
    await t.seedUser(second.tenant.id, { email: 'both@example.com', role: 'admin' });

    const wrong = await signIn({ email: 'both@example.com', password: OTHER_PASSWORD });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().error, 'invalid_credentials');
    assert.equal(wrong.json().tenants, undefined, 'no tenant list before the password is verified');

    const ask = await signIn({ email: 'both@example.com', password: PASSWORD });
    assert.equal(ask.statusCode, 409);
    assert.equal(ask.json().error, 'tenant_choice_required');
    assert.deepEqual(
      [...ask.json().tenants].sort((a: { slug: string }, b: { slug: string }) => a.slug.localeCompare(b.slug)),
      [
        { slug: first.tenant.slug, name: 'Alpha Co' },
        { slug: second.tenant.slug, name: 'Beta Co' },
      ].sort((a, b) => a.slug.localeCompare(b.slug)),
    );
    assert.equal(ask.cookies.length, 0);

    const chosen = await signIn({ email: 'both@example.com', password: PASSWORD, tenant: second.tenant.slug });
    assert.equal(chosen.statusCode, 200);
    assert.equal(chosen.json().tenant.slug, second.tenant.slug);
    assert.equal(chosen.json().user.role, 'admin');

    const elsewhere = await signIn({ email: 'both@example.com', password: PASSWORD, tenant: 'no-such-tenant' });
    assert.equal(elsewhere.statusCode, 401);
    assert.equal(elsewhere.json().error, 'invalid_credentials');
  });

  test("when the password matches only one of the email's tenants, it signs in to that one without asking", async () => {
    const first = await t.seedTenant();
    const second = await t.seedTenant();
    await t.seedUser(first.tenant.id, { email: 'two-passwords@example.com' });
    await t.seedUser(second.tenant.id, { email: 'two-passwords@example.com', password: OTHER_PASSWORD });
    const response = await signIn({ email: 'two-passwords@example.com', password: OTHER_PASSWORD });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().tenant.slug, second.tenant.slug);
  });

  test('an unknown email and a wrong password take about the same time, and both spend a password hash', async () => {
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const time = async (fn: () => Promise<unknown>) => {
      const start = performance.now();
      await fn();
      return performance.now() - start;
    };
    // Interleaved, so that load from elsewhere on the machine falls on every kind alike.
    const samples = { hash: [] as number[], unknown: [] as number[], wrong: [] as number[], deactivated: [] as number[] };
    for (let i = 0; i < 7; i++) {
      samples.hash.push(await time(() => hashPassword(OTHER_PASSWORD)));
      samples.unknown.push(await time(() => signIn({ email: `nobody-${i}@example.com`, password: OTHER_PASSWORD })));
      samples.wrong.push(await time(() => signIn({ email: 'kevin.casey@example.com', password: OTHER_PASSWORD })));
      samples.deactivated.push(await time(() => signIn({ email: 'gone@example.com', password: OTHER_PASSWORD })));
    }
    const { hash: hashing, ...failures } = samples;
    const hash = median(hashing);
    const medians = Object.values(failures).map(median);
    for (const value of medians) assert.ok(value >= hash / 2, `a sign-in failure took ${value} ms; one hash takes ${hash} ms`);
    assert.ok(Math.max(...medians) <= 3 * Math.min(...medians), `medians differ too much: ${JSON.stringify(medians)}`);
  });
});

describe('password sign-in behind an https PUBLIC_URL', () => {
  let t: TestInstance;
  before(async () => {
    t = await getTestInstance({ env: { PUBLIC_URL: 'https://id.example.test' } });
  });
  after(() => t.close());

  test('the session cookie is Secure when PUBLIC_URL is https', async () => {
    const seeded = await t.seedTenant();
    const response = await t.inject({ method: 'POST', url: '/api/auth/password', payload: { email: seeded.admin.email, password: PASSWORD } });
    assert.equal(response.statusCode, 200);
    const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE);
    assert.equal(cookie?.secure, true);
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Lax');
  });
});
