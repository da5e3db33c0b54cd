import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getTestInstance } from '../../test/instance.ts';
import { createSetupLink } from '../accounts/setup.ts';
import { SESSION_COOKIE } from './auth.ts';

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  req?: { method: string; url: string };
  res?: { statusCode: number };
}

describe('logs (SPEC 4: no secret in any log line)', () => {
  test('signing in, inviting and accepting leave no password, session token or invitation secret in the log', async (t) => {
    const server = await getTestInstance();
    t.after(() => server.close());
    const secrets: Record<string, string> = {};
    const cookieOf = (response: Awaited<ReturnType<typeof server.inject>>) => {
      const value = response.cookies.find((c) => c.name === SESSION_COOKIE)?.value;
      assert.ok(value, `a session cookie (${response.statusCode} ${response.body})`);
      return value;
    };

    // First run: the setup token rides in the body.
    const link = await createSetupLink(server.ctx);
    secrets.setupToken = new URL(link!).hash.slice(1);
    secrets.adminPassword = 'setup admin passphrase 1';
    const setup = await server.inject({
      method: 'POST',
      url: '/api/setup',
      payload: {
        token: secrets.setupToken,
        tenantName: 'Log Co',
        tenantSlug: 'log-co',
        email: 'admin@log.test',
        firstName: 'A',
        lastName: 'D',
        password: secrets.adminPassword,
      },
    });
    assert.equal(setup.statusCode, 201);
    secrets.setupSession = cookieOf(setup);
    assert.equal((await server.inject({ method: 'GET', url: '/api/me', cookies: { [SESSION_COOKIE]: secrets.setupSession } })).statusCode, 200);

    // A password sign-in, and a failed one.
    const signIn = await server.inject({ method: 'POST', url: '/api/auth/password', payload: { email: 'admin@log.test', password: secrets.adminPassword } });
    secrets.adminSession = cookieOf(signIn);
    secrets.wrongPassword = 'a wrong guess of a password';
    assert.equal(
      (await server.inject({ method: 'POST', url: '/api/auth/password', payload: { email: 'admin@log.test', password: secrets.wrongPassword } })).statusCode,
      401,
    );
    secrets.malformedPassword = 'password inside broken json';
    const malformed = await server.inject({
      method: 'POST',
      url: '/api/auth/password',
      payload: `{"email":"admin@log.test","password":"${secrets.malformedPassword}"`,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(malformed.statusCode, 400);

    // Invite, look at the invitation, accept it.
    const invited = await server.inject({
      method: 'POST',
      url: '/api/members/invitations',
      token: secrets.adminSession,
      payload: { email: 'joiner@log.test', role: 'member' },
    });
    assert.equal(invited.statusCode, 201);
    secrets.inviteUrl = invited.json().inviteUrl;
    secrets.invitationToken = secrets.inviteUrl!.slice(secrets.inviteUrl!.lastIndexOf('/') + 1);
    assert.equal((await server.inject({ method: 'GET', url: `/api/invitations/${secrets.invitationToken}` })).statusCode, 200);
    secrets.joinerPassword = 'the joiner chose this passphrase';
    const accepted = await server.inject({
      method: 'POST',
      url: `/api/invitations/${secrets.invitationToken}/accept`,
      payload: { firstName: 'Jo', lastName: 'Iner', password: secrets.joinerPassword },
    });
    assert.equal(accepted.statusCode, 200);
    secrets.joinerSession = cookieOf(accepted);
    // A replayed accept is refused, and logged like any request.
    assert.equal((await server.inject({ method: 'POST', url: `/api/invitations/${secrets.invitationToken}/accept`, payload: { firstName: 'X', lastName: 'Y', password: 'x'.repeat(20) } })).statusCode, 400);

    // A bot token, used once; then the sessions end.
    const bot = await server.inject({ method: 'POST', url: '/api/bots', token: secrets.adminSession, payload: { name: 'logger' } });
    secrets.botToken = bot.json().token;
    assert.equal((await server.inject({ method: 'GET', url: '/api/me', token: secrets.botToken })).statusCode, 200);
    assert.equal((await server.inject({ method: 'POST', url: '/api/auth/logout', cookies: { [SESSION_COOKIE]: secrets.joinerSession } })).statusCode, 204);
    assert.equal((await server.inject({ method: 'POST', url: '/api/auth/logout', token: secrets.adminSession })).statusCode, 204);

    const log = server.logs.join('');
    for (const [name, secret] of Object.entries(secrets)) {
      assert.ok(secret && secret.length >= 20, `${name} was captured`);
      assert.ok(!log.includes(secret), `${name} appears in the log`);
      if (secret.split('.').length === 3) {
        // Not even the signature of a JWT on its own.
        assert.ok(!log.includes(secret.split('.')[2]!), `the signature of ${name} appears in the log`);
      }
    }

    // The log is not empty: every request has its lines, with a request id.
    const lines = server.logs.map((line) => JSON.parse(line) as LogLine);
    const incoming = lines.filter((line) => line.msg === 'incoming request');
    const completed = lines.filter((line) => line.msg === 'request completed');
    assert.equal(incoming.length, 13, `every request was logged (${incoming.length})`);
    for (const line of [...incoming, ...completed]) assert.match(String(line.reqId), /^[0-9a-f-]{36}$/, 'a request id');
    assert.equal(new Set(incoming.map((line) => line.reqId)).size, incoming.length, 'one id per request');
    for (const line of incoming) {
      assert.ok(line.req?.method && line.req.url, 'method and url');
      assert.ok(completed.some((done) => done.reqId === line.reqId && typeof done.res?.statusCode === 'number'), `${line.req.url} completed`);
    }
    assert.ok(incoming.some((line) => line.req?.url === '/api/invitations/[redacted]'), 'invitation paths are logged with the token replaced');
    assert.ok(incoming.some((line) => line.req?.url === '/api/invitations/[redacted]/accept'));
  });
});
