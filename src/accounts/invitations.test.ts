import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getTestInstance, PASSWORD, type Seeded, type TestInstance } from '../../test/instance.ts';
import { seedSsoConfig, setEnforce } from '../../test/sso-rows.ts';
import { SESSION_COOKIE } from '../http/auth.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const NEW_PASSWORD = 'a brand new passphrase';

/** The admin invites an email; answers the response and the token from the link. */
async function invite(t: TestInstance, adminToken: string, email: string, role: 'admin' | 'member' = 'member') {
  const response = await t.inject({ method: 'POST', url: '/api/members/invitations', token: adminToken, payload: { email, role } });
  const inviteUrl = response.statusCode === 201 ? (response.json().inviteUrl as string) : '';
  return { response, token: inviteUrl.slice(inviteUrl.lastIndexOf('/') + 1) };
}

const describeInvite = (t: TestInstance, token: string) => t.inject({ method: 'GET', url: `/api/invitations/${token}` });
const accept = (t: TestInstance, token: string, payload: Record<string, unknown> = { firstName: 'Kevin', lastName: 'Casey', password: NEW_PASSWORD }) =>
  t.inject({ method: 'POST', url: `/api/invitations/${token}/accept`, payload });

function assertInvalid(response: { statusCode: number; json(): { error?: string } }) {
  assert.equal(response.statusCode, 400);
  assert.equal(response.json().error, 'invitation_invalid');
}

describe('invitations (SPEC 5)', () => {
  let t: TestInstance;
  let seeded: Seeded;
  before(async () => {
    t = await getTestInstance();
    seeded = await t.seedTenant({ name: 'Acme Team' });
  });
  after(() => t.close());

  test('an invitation answers 201 with a link valid for 7 days, and only a hash of its token is stored', async () => {
    const { response, token } = await invite(t, seeded.admin.token, 'new.person@example.com', 'admin');
    assert.equal(response.statusCode, 201);
    const body = response.json();
    assert.deepEqual(Object.keys(body.invitation).sort(), ['email', 'expiresAt', 'id', 'role']);
    assert.equal(body.invitation.email, 'new.person@example.com');
    assert.equal(body.invitation.role, 'admin');
    assert.equal(body.invitation.expiresAt, new Date(t.clock.now() + 7 * DAY_MS).toISOString());
    assert.equal(body.emailed, false);
    assert.ok(body.inviteUrl.startsWith(`${t.publicUrl}/invite/`));
    assert.ok(token.length >= 32);

    const rows = await t.ctx.db.all<Record<string, unknown>>('SELECT * FROM invitations');
    assert.equal(rows.length, 1);
    assert.ok(!JSON.stringify(rows).includes(token), 'the raw token is not in the invitations table');
    assert.ok(rows[0]!.token_hash, 'a hash is stored');
  });

  test('GET /api/invitations/:token answers {email, tenant:{slug,name}, ssoEnforced, sso}', async () => {
    const { token } = await invite(t, seeded.admin.token, 'Shape.Check@Example.com');
    const response = await describeInvite(t, token);
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.email, 'shape.check@example.com');
    assert.deepEqual(body.tenant, { slug: seeded.tenant.slug, name: 'Acme Team' });
    assert.equal(body.ssoEnforced, false);
    assert.equal(body.sso, null);
  });

  test('accepting with a name and a password creates the member and signs them in', async () => {
    const { token } = await invite(t, seeded.admin.token, 'joiner@example.com');
    const response = await accept(t, token, { firstName: ' Jo ', lastName: 'Iner', password: NEW_PASSWORD });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.deepEqual(body.user, { id: body.user.id, email: 'joiner@example.com', firstName: 'Jo', lastName: 'Iner', role: 'member' });
    assert.equal(body.tenant.slug, seeded.tenant.slug);
    const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE);
    assert.ok(cookie?.httpOnly);
    const me = await t.inject({ method: 'GET', url: '/api/me', cookies: { [SESSION_COOKIE]: cookie.value } });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().user.email, 'joiner@example.com');
    // The password chosen on the accept page signs in from now on.
    assert.ok(await t.login('joiner@example.com', NEW_PASSWORD));
  });

  test('an invitation works once: a second accept is refused', async () => {
    const { token } = await invite(t, seeded.admin.token, 'once@example.com');
    assert.equal((await accept(t, token)).statusCode, 200);
    assertInvalid(await accept(t, token, { firstName: 'Evil', lastName: 'Twin', password: 'another password entirely' }));
    assertInvalid(await describeInvite(t, token));
  });

  test('two accepts of one invitation at once create one member', async () => {
    const { token } = await invite(t, seeded.admin.token, 'race@example.com');
    const answers = await Promise.all([accept(t, token), accept(t, token)]);
    assert.deepEqual(answers.map((r) => r.statusCode).sort(), [200, 400]);
    const users = await t.ctx.db.all('SELECT id FROM users WHERE email = $1', ['race@example.com']);
    assert.equal(users.length, 1);
  });

  test('re-inviting a pending email replaces the old link', async () => {
    const old = await invite(t, seeded.admin.token, 'twice@example.com');
    const fresh = await invite(t, seeded.admin.token, 'Twice@Example.com', 'admin');
    assert.equal(fresh.response.statusCode, 201);
    assertInvalid(await describeInvite(t, old.token));
    assertInvalid(await accept(t, old.token));
    const members = await t.inject({ method: 'GET', url: '/api/members', token: seeded.admin.token });
    const pending = members.json().invitations.filter((i: { email: string }) => i.email === 'twice@example.com');
    assert.equal(pending.length, 1);
    assert.equal(pending[0].role, 'admin');
    const accepted = await accept(t, fresh.token);
    assert.equal(accepted.statusCode, 200);
    assert.equal(accepted.json().user.role, 'admin');
  });

  test('inviting an email that is already a member is refused with already_member, whatever its case and whitespace', async () => {
    for (const email of [seeded.admin.email, ` ${seeded.admin.email.toUpperCase()} `]) {
      const { response } = await invite(t, seeded.admin.token, email);
      assert.equal(response.statusCode, 409, email);
      assert.equal(response.json().error, 'already_member');
    }
  });

  test('emails are one per tenant compared case-insensitively; an alias, another domain or another tenant is a different member', async () => {
    const { token } = await invite(t, seeded.admin.token, 'Kevin.Casey@Example.com ');
    assert.equal((await accept(t, token)).json().user.email, 'kevin.casey@example.com');
    assert.equal((await invite(t, seeded.admin.token, 'kevin.casey@example.com')).response.statusCode, 409);
    assert.equal((await invite(t, seeded.admin.token, '  KEVIN.CASEY@EXAMPLE.COM')).response.statusCode, 409);
    assert.equal((await invite(t, seeded.admin.token, 'kevin.casey+alias@example.com')).response.statusCode, 201);
    assert.equal((await invite(t, seeded.admin.token, 'kevin.casey@example.org')).response.statusCode, 201);
    const other = await t.seedTenant();
    assert.equal((await invite(t, other.admin.token, 'Kevin.Casey@example.com')).response.statusCode, 201);
  });

  test('an invitation for something that is not an email is refused with invalid_email', async () => {
    for (const email of ['not-an-email', 'a@b', 'two@@example.com', 'spaces in@example.com']) {
      const { response } = await invite(t, seeded.admin.token, email);
      assert.equal(response.statusCode, 400, email);
      assert.equal(response.json().error, 'invalid_email', email);
    }
  });

  test('a weak or missing password is refused, and the invitation stays usable', async () => {
    const { token } = await invite(t, seeded.admin.token, 'weak@example.com');
    const weak = await accept(t, token, { firstName: 'W', lastName: 'K', password: 'short' });
    assert.equal(weak.statusCode, 400);
    assert.equal(weak.json().error, 'weak_password');
    const missing = await accept(t, token, { firstName: 'W', lastName: 'K' });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error, 'invalid_body');
    assert.equal((await describeInvite(t, token)).statusCode, 200);
    assert.equal((await accept(t, token)).statusCode, 200);
  });

  test('an unknown token is refused with invitation_invalid', async () => {
    assertInvalid(await describeInvite(t, 'A'.repeat(43)));
    assertInvalid(await accept(t, 'A'.repeat(43)));
  });

  test('when the tenant has SSO, the accept page is told its name, and whether it is enforced', async () => {
    const sso = await t.seedTenant();
    await seedSsoConfig(t.ctx.db, sso.tenant.id, { name: 'Okta' });
    const { token } = await invite(t, sso.admin.token, 'sso-invitee@example.com');
    let body = (await describeInvite(t, token)).json();
    assert.deepEqual(body.sso, { name: 'Okta' });
    assert.equal(body.ssoEnforced, false);
    await setEnforce(t.ctx.db, sso.tenant.id, true);
    body = (await describeInvite(t, token)).json();
    assert.equal(body.ssoEnforced, true);
  });

  test('when the tenant enforces SSO, accepting skips the password and sends the invitee to the IdP', async () => {
    const sso = await t.seedTenant();
    await seedSsoConfig(t.ctx.db, sso.tenant.id, { name: 'Entra', enforce: true });
    const { token } = await invite(t, sso.admin.token, 'Enforced.Invitee@example.com');
    const response = await accept(t, token, { firstName: 'En', lastName: 'Forced' });
    assert.equal(response.statusCode, 200);
    const redirect = new URL(response.json().redirect, 'http://localhost');
    assert.equal(redirect.pathname, '/auth/sso/start');
    assert.equal(redirect.searchParams.get('tenant'), sso.tenant.slug);
    assert.equal(response.cookies.length, 0, 'not signed in until the IdP says so');
    const user = await t.ctx.db.one<{ password_hash: string | null; first_name: string }>(
      'SELECT password_hash, first_name FROM users WHERE tenant_id = $1 AND email = $2',
      [sso.tenant.id, 'enforced.invitee@example.com'],
    );
    assert.equal(user?.password_hash, null);
    assert.equal(user?.first_name, 'En');
    assertInvalid(await describeInvite(t, token));
  });
});

describe('invitation expiry', () => {
  let t: TestInstance;
  let seeded: Seeded;
  before(async () => {
    t = await getTestInstance();
    seeded = await t.seedTenant();
  });
  after(() => t.close());

  test('an invitation is valid for 7 days, then refused and no longer listed', async () => {
    const early = await invite(t, seeded.admin.token, 'early@example.com');
    const late = await invite(t, seeded.admin.token, 'late@example.com');
    t.clock.advance(7 * DAY_MS - 60_000);
    assert.equal((await describeInvite(t, early.token)).statusCode, 200);
    assert.equal((await accept(t, early.token)).statusCode, 200);
    t.clock.advance(60_001);
    assertInvalid(await describeInvite(t, late.token));
    assertInvalid(await accept(t, late.token));
    const admin = await t.login(seeded.admin.email, PASSWORD);
    const members = await t.inject({ method: 'GET', url: '/api/members', token: admin });
    assert.deepEqual(members.json().invitations, []);
    // An expired invitation can be sent again.
    const again = await invite(t, admin, 'late@example.com');
    assert.equal(again.response.statusCode, 201);
    assert.equal((await accept(t, again.token)).statusCode, 200);
  });
});
