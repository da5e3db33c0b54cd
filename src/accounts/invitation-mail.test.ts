import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { freePort, getTestInstance, type Seeded, type TestInstance } from '../../test/instance.ts';

interface Received {
  from: string;
  to: string[];
  user: string | undefined;
  raw: string;
}

/** A real SMTP listener on loopback that accepts any login and keeps what it is sent. */
async function startSmtp() {
  const mails: Received[] = [];
  const waiting: ((mail: Received) => void)[] = [];
  const logins: { username: string | null | undefined; password: string | null | undefined }[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: false,
    logger: false,
    onAuth(auth, _session, callback) {
      logins.push({ username: auth.username, password: auth.password });
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const mail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw: Buffer.concat(chunks).toString('utf8'),
        };
        mails.push(mail);
        waiting.shift()?.(mail);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return {
    port,
    mails,
    logins,
    /** The next mail to arrive; ask before sending it. */
    next: () => new Promise<Received>((resolve) => waiting.push(resolve)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The text of a MIME message with quoted-printable soft breaks and escapes undone. */
function decodedText(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

describe('invitation mail through SMTP_URL (SPEC 5)', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let t: TestInstance;
  let seeded: Seeded;
  before(async () => {
    smtp = await startSmtp();
    t = await getTestInstance({ env: { SMTP_URL: `smtp://mailer:mail-pass@127.0.0.1:${smtp.port}` } });
    seeded = await t.seedTenant({ name: 'Mail Co' });
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  test('the invitation is emailed to the invitee with the invite URL, and the API answers emailed: true', async () => {
    const arrived = smtp.next();
    const response = await t.inject({
      method: 'POST',
      url: '/api/members/invitations',
      token: seeded.admin.token,
      payload: { email: 'Invitee@Example.com', role: 'member' },
    });
    assert.equal(response.statusCode, 201);
    const { emailed, inviteUrl } = response.json();
    assert.equal(emailed, true);
    assert.ok(inviteUrl.startsWith(`${t.publicUrl}/invite/`));

    const mail = await arrived;
    assert.deepEqual(mail.to, ['invitee@example.com']);
    assert.equal(mail.user, 'mailer', 'signed in with the user from SMTP_URL');
    assert.deepEqual(smtp.logins.at(-1), { username: 'mailer', password: 'mail-pass' });
    const text = decodedText(mail.raw);
    assert.match(text, /^To: invitee@example\.com\r?$/im);
    assert.ok(text.includes(inviteUrl), 'the mail carries the invite URL');
    assert.ok(text.includes('Mail Co'), 'and names the team');

    // The emailed link is the one that works.
    const token = inviteUrl.slice(inviteUrl.lastIndexOf('/') + 1);
    assert.equal((await t.inject({ method: 'GET', url: `/api/invitations/${token}` })).statusCode, 200);
  });
});

describe('invitation links without working mail', () => {
  test('without SMTP_URL nothing is emailed and the invite URL is still returned', async (t) => {
    const instance = await getTestInstance();
    t.after(() => instance.close());
    const seeded = await instance.seedTenant();
    const response = await instance.inject({
      method: 'POST',
      url: '/api/members/invitations',
      token: seeded.admin.token,
      payload: { email: 'no-mail@example.com', role: 'member' },
    });
    assert.equal(response.statusCode, 201);
    assert.equal(response.json().emailed, false);
    assert.ok(response.json().inviteUrl.startsWith(`${instance.publicUrl}/invite/`));
  });

  test('when the SMTP server cannot be reached the invitation is still made: emailed: false with the URL', async (t) => {
    // A port that was free a moment ago: nothing listens there.
    const port = await freePort();
    const instance = await getTestInstance({ env: { SMTP_URL: `smtp://u:p@127.0.0.1:${port}` } });
    t.after(() => instance.close());
    const seeded = await instance.seedTenant();
    const response = await instance.inject({
      method: 'POST',
      url: '/api/members/invitations',
      token: seeded.admin.token,
      payload: { email: 'unlucky@example.com', role: 'member' },
    });
    assert.equal(response.statusCode, 201);
    assert.equal(response.json().emailed, false);
    const token = (response.json().inviteUrl as string).split('/').pop()!;
    assert.equal((await instance.inject({ method: 'GET', url: `/api/invitations/${token}` })).statusCode, 200);
    assert.ok(!instance.logs.join('').includes(token), 'the failure is logged without the link');
  });
});
