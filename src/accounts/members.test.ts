import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getTestInstance, PASSWORD, type Seeded, type TestInstance } from '../../test/instance.ts';

type Response = Awaited<ReturnType<TestInstance['inject']>>;

function assertError(response: Response, status: number, code: string) {
  assert.equal(response.statusCode, status, `${code}: ${response.body}`);
  assert.equal(response.json().error, code);
}

describe('team members (SPEC 5, member routes of 8.2)', () => {
  let t: TestInstance;
  let a: Seeded;
  let b: Seeded;
  let memberA: { id: string; token: string };
  let memberB: { id: string };
  let invitationB: { id: string; token: string };
  before(async () => {
    t = await getTestInstance();
    a = await t.seedTenant();
    b = await t.seedTenant();
    memberA = { ...(await t.seedUser(a.tenant.id, { email: 'member@a.test' })), token: await t.login('member@a.test', PASSWORD) };
    memberB = await t.seedUser(b.tenant.id, { email: 'member@b.test' });
    const invited = await t.inject({ method: 'POST', url: '/api/members/invitations', token: b.admin.token, payload: { email: 'pending@b.test', role: 'member' } });
    const url = invited.json().inviteUrl as string;
    invitationB = { id: invited.json().invitation.id, token: url.slice(url.lastIndexOf('/') + 1) };
  });
  after(() => t.close());

  const as = (token: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    t.inject({ method, url, token, ...(payload ? { payload } : {}) });
  const list = async (token: string) => (await as(token, 'GET', '/api/members')).json();
  const memberIn = async (token: string, id: string) => (await list(token)).members.find((m: { id: string }) => m.id === id);

  test('GET /api/members lists members and pending invitations in the documented shape', async () => {
    const response = await as(b.admin.token, 'GET', '/api/members');
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.deepEqual(Object.keys(body).sort(), ['invitations', 'members']);
    for (const member of body.members) {
      assert.deepEqual(Object.keys(member).sort(), ['email', 'firstName', 'id', 'lastName', 'role', 'ssoLinked', 'status']);
    }
    assert.deepEqual(body.members.map((m: { email: string }) => m.email).sort(), [b.admin.email, 'member@b.test'].sort());
    assert.deepEqual(body.invitations.map((i: object) => Object.keys(i).sort()), [['email', 'expiresAt', 'id', 'role']]);
    assert.equal(body.invitations[0].id, invitationB.id);
    assert.ok(!response.body.includes('password') && !response.body.includes('$argon2'), 'no password material');
  });

  test("an admin changes a member's role", async () => {
    const promoted = await as(a.admin.token, 'PATCH', `/api/members/${memberA.id}`, { role: 'admin' });
    assert.equal(promoted.statusCode, 200);
    assert.equal(promoted.json().member.role, 'admin');
    assert.equal((await as(memberA.token, 'GET', '/api/members')).statusCode, 200, 'the new role counts at once');
    const demoted = await as(a.admin.token, 'PATCH', `/api/members/${memberA.id}`, { role: 'member' });
    assert.equal(demoted.json().member.role, 'member');
    assertError(await as(memberA.token, 'GET', '/api/members'), 403, 'admin_required');
  });

  test('an unknown role is refused', async () => {
    assertError(await as(a.admin.token, 'PATCH', `/api/members/${memberA.id}`, { role: 'owner' }), 400, 'invalid_body');
  });

  test('the last active admin cannot deactivate or demote themselves (last_admin)', async () => {
    const solo = await t.seedTenant();
    assertError(await as(solo.admin.token, 'POST', `/api/members/${solo.admin.id}/deactivate`), 409, 'last_admin');
    assertError(await as(solo.admin.token, 'PATCH', `/api/members/${solo.admin.id}`, { role: 'member' }), 409, 'last_admin');
    const me = await memberIn(solo.admin.token, solo.admin.id);
    assert.equal(me.role, 'admin');
    assert.equal(me.status, 'active');
  });

  test('last_admin counts only active admins', async () => {
    const pair = await t.seedTenant();
    const second = await t.seedUser(pair.tenant.id, { email: 'second@pair.test', role: 'admin' });
    assert.equal((await as(pair.admin.token, 'POST', `/api/members/${second.id}/deactivate`)).statusCode, 200);
    assertError(await as(pair.admin.token, 'PATCH', `/api/members/${pair.admin.id}`, { role: 'member' }), 409, 'last_admin');
    assertError(await as(pair.admin.token, 'POST', `/api/members/${pair.admin.id}/deactivate`), 409, 'last_admin');
    assert.equal((await as(pair.admin.token, 'POST', `/api/members/${second.id}/reactivate`)).statusCode, 200);
    const demoted = await as(pair.admin.token, 'PATCH', `/api/members/${pair.admin.id}`, { role: 'member' });
    assert.equal(demoted.statusCode, 200);
    assert.equal(demoted.json().member.role, 'member');
  });

  test('a deactivated member cannot sign in and their sessions end; reactivation lets them sign in again', async () => {
    const user = await t.seedUser(a.tenant.id, { email: 'leaver@a.test' });
    const token = await t.login('leaver@a.test', PASSWORD);
    const deactivated = await as(a.admin.token, 'POST', `/api/members/${user.id}/deactivate`);
    assert.equal(deactivated.statusCode, 200);
    assert.equal(deactivated.json().member.status, 'deactivated');
    assert.equal((await memberIn(a.admin.token, user.id)).status, 'deactivated');
    assertError(await as(token, 'GET', '/api/me'), 401, 'unauthenticated');
    assertError(await t.inject({ method: 'POST', url: '/api/auth/password', payload: { email: 'leaver@a.test', password: PASSWORD } }), 403, 'account_disabled');

    const reactivated = await as(a.admin.token, 'POST', `/api/members/${user.id}/reactivate`);
    assert.equal(reactivated.statusCode, 200);
    assert.equal(reactivated.json().member.status, 'active');
    assert.equal((await as(await t.login('leaver@a.test', PASSWORD), 'GET', '/api/me')).statusCode, 200);
  });

  test('revoking an invitation makes its link invalid', async () => {
    const invited = await as(a.admin.token, 'POST', '/api/members/invitations', { email: 'revoked@a.test', role: 'member' });
    const { invitation, inviteUrl } = invited.json();
    const token = (inviteUrl as string).slice((inviteUrl as string).lastIndexOf('/') + 1);
    assert.equal((await as(a.admin.token, 'DELETE', `/api/members/invitations/${invitation.id}`)).statusCode, 204);
    assertError(await t.inject({ method: 'GET', url: `/api/invitations/${token}` }), 400, 'invitation_invalid');
    assert.ok(!(await list(a.admin.token)).invitations.some((i: { id: string }) => i.id === invitation.id));
    assertError(await as(a.admin.token, 'DELETE', `/api/members/invitations/${invitation.id}`), 404, 'not_found');
  });

  test("clearing a member's stored SSO identity unlinks it", async () => {
    await t.ctx.db.run('UPDATE users SET sso_issuer = $1, sso_subject = $2 WHERE id = $3', ['https://idp.invalid', 'sub-1', memberA.id]);
    assert.equal((await memberIn(a.admin.token, memberA.id)).ssoLinked, true);
    assert.equal((await as(a.admin.token, 'DELETE', `/api/members/${memberA.id}/sso-identity`)).statusCode, 204);
    assert.equal((await memberIn(a.admin.token, memberA.id)).ssoLinked, false);
    const row = await t.ctx.db.one<{ sso_issuer: string | null; sso_subject: string | null }>('SELECT sso_issuer, sso_subject FROM users WHERE id = $1', [
      memberA.id,
    ]);
    assert.deepEqual({ ...row }, { sso_issuer: null, sso_subject: null });
  });

  test("an admin of one tenant gets 404 for another tenant's member and invitation ids, and changes nothing", async () => {
    await t.ctx.db.run('UPDATE users SET sso_subject = $1, sso_issuer = $2 WHERE id = $3', ['sub-b', 'https://idp.invalid', memberB.id]);
    const attempts: [string, string, object?][] = [
      ['POST', `/api/members/${memberB.id}/deactivate`],
      ['POST', `/api/members/${memberB.id}/reactivate`],
      ['PATCH', `/api/members/${memberB.id}`, { role: 'admin' }],
      ['DELETE', `/api/members/${memberB.id}/sso-identity`],
      ['DELETE', `/api/members/invitations/${invitationB.id}`],
      ['POST', `/api/members/${b.admin.id}/deactivate`],
      ['PATCH', `/api/members/${b.admin.id}`, { role: 'member' }],
    ];
    for (const [method, url, payload] of attempts) assertError(await as(a.admin.token, method as 'POST', url, payload), 404, 'not_found');
    const seen = await memberIn(b.admin.token, memberB.id);
    assert.deepEqual([seen.role, seen.status, seen.ssoLinked], ['member', 'active', true]);
    assert.equal((await memberIn(b.admin.token, b.admin.id)).role, 'admin');
    assert.equal((await t.inject({ method: 'GET', url: `/api/invitations/${invitationB.token}` })).statusCode, 200);
    assert.ok(!(await list(a.admin.token)).members.some((m: { id: string }) => m.id === memberB.id), 'lists are per tenant');
  });

  const adminRoutes = (id: string): [string, string, object?][] => [
    ['GET', '/api/members'],
    ['POST', '/api/members/invitations', { email: 'x@a.test', role: 'member' }],
    ['DELETE', `/api/members/invitations/${id}`],
    ['POST', `/api/members/${id}/deactivate`],
    ['POST', `/api/members/${id}/reactivate`],
    ['PATCH', `/api/members/${id}`, { role: 'admin' }],
    ['DELETE', `/api/members/${id}/sso-identity`],
    ['GET', '/api/bots'],
    ['POST', '/api/bots', { name: 'sneaky' }],
  ];

  test('members cannot reach admin routes (403 admin_required)', async () => {
    for (const [method, url, payload] of adminRoutes(a.admin.id)) {
      assertError(await as(memberA.token, method as 'POST', url, payload), 403, 'admin_required');
    }
    assert.equal((await memberIn(a.admin.token, a.admin.id)).status, 'active');
  });

  test('bots cannot manage members (403) but can call /api/me', async () => {
    const created = await as(a.admin.token, 'POST', '/api/bots', { name: 'deployer' });
    assert.equal(created.statusCode, 201);
    const { bot, token } = created.json();
    for (const [method, url, payload] of adminRoutes(a.admin.id)) {
      assertError(await as(token, method as 'POST', url, payload), 403, 'forbidden');
    }
    const me = await as(token, 'GET', '/api/me');
    assert.equal(me.statusCode, 200);
    assert.deepEqual(me.json().bot, { id: bot.id, name: 'deployer' });
    assert.equal(me.json().tenant.slug, a.tenant.slug);
  });

  test('who may call a member route is decided before the body is looked at', async () => {
    const { token: botToken } = (await as(a.admin.token, 'POST', '/api/bots', { name: 'prober' })).json();
    const memberRoutes = adminRoutes('x').filter(([, url]) => url.startsWith('/api/members/') && !url.endsWith('/api/members'));
    for (const [method, url] of memberRoutes) {
      const bogus = { bogus: true, email: 42 };
      assertError(await as(memberA.token, method as 'POST', url, bogus), 403, 'admin_required');
      assertError(await as(botToken, method as 'POST', url, bogus), 403, 'forbidden');
      assertError(await t.inject({ method: method as 'POST', url, payload: bogus }), 401, 'unauthenticated');
    }
  });

  test('without a session the admin routes answer 401 unauthenticated', async () => {
    for (const [method, url, payload] of adminRoutes(a.admin.id)) {
      const response = await t.inject({ method: method as 'POST', url, ...(payload ? { payload } : {}) });
      assertError(response, 401, 'unauthenticated');
    }
  });
});
