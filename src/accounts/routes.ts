import type { FastifyInstance } from 'fastify';
import { getBot } from '../bots/bots.ts';
import type { Context } from '../context.ts';
import { AppError } from '../errors/catalogue.ts';
import {
  clearSessionCookie,
  requireAdmin,
  requirePrincipal,
  setSessionCookie,
  tenantOf,
  tenantOrThrow,
  tokenFrom,
} from '../http/auth.ts';
import { body, params, signInRateLimit, text } from '../http/schema.ts';
import { normalizeEmail } from './email.ts';
import { acceptInvitation, createInvitation, describeInvitation, listInvitations, revokeInvitation } from './invitations.ts';
import { changeRole, clearSsoIdentity, deactivateMember, listMembers, reactivateMember } from './members.ts';
import { MAX_PASSWORD_LENGTH } from './passwords.ts';
import { completeSetup } from './setup.ts';
import { discover, passwordSignIn } from './sign-in.ts';
import { getUser, tenantView, toUser, userView } from './tenants.ts';
import { EmailThrottle } from './throttle.ts';

const email = text(320);
const password = text(MAX_PASSWORD_LENGTH, 1);
const name = text(100, 0);
const role = { type: 'string', enum: ['admin', 'member'] } as const;
const id = params({ id: text(100) });
const invitationToken = params({ token: text(200) });

/** Sign-in, invitations, team members and first-run setup. */
export async function accountRoutes(app: FastifyInstance, ctx: Context): Promise<void> {
  const throttle = new EmailThrottle(ctx.config.failedSignInsPerEmail, ctx.clock);
  const limited = signInRateLimit(ctx);
  // Runs as preValidation: who may call a route is settled before its body is
  // looked at, so a member or bot is told 403, never how the body is wrong.
  const admin = requireAdmin(ctx);

  app.post('/api/auth/discover', { ...limited, schema: body({ email }, ['email']) }, async (request) => {
    const { email } = request.body as { email: string };
    return discover(ctx, email);
  });

  app.post('/api/auth/password', { ...limited, schema: body({ email, password, tenant: text(40) }, ['email', 'password']) }, async (request, reply) => {
    const input = request.body as { email: string; password: string; tenant?: string };
    const key = normalizeEmail(input.email);
    throttle.check(key);
    try {
      const result = await passwordSignIn(ctx, input);
      setSessionCookie(ctx, reply, result.token, result.expiresAt);
      return { user: userView(result.user), tenant: tenantView(result.tenant) };
    } catch (error) {
      if (error instanceof AppError && error.code === 'invalid_credentials') throttle.recordFailure(key);
      throw error;
    }
  });

  app.post('/api/auth/logout', async (request, reply) => {
    const token = tokenFrom(request);
    const principal = token ? await ctx.sessions.authenticate(token) : null;
    if (principal?.kind === 'user') await ctx.sessions.revoke(principal.tenantId, principal.sessionId);
    clearSessionCookie(ctx, reply);
    return reply.code(204).send();
  });

  app.get('/api/me', { preHandler: requirePrincipal(ctx) }, async (request) => {
    const principal = request.principal!;
    const tenant = await tenantOrThrow(ctx, principal.tenantId);
    if (principal.kind === 'bot') {
      const bot = await getBot(ctx, principal.tenantId, principal.botId);
      if (!bot) throw new AppError('unauthenticated');
      return { bot: { id: bot.id, name: bot.name }, tenant: tenantView(tenant) };
    }
    const user = await getUser(ctx.db, principal.tenantId, principal.userId);
    if (!user || user.status !== 'active') throw new AppError('unauthenticated');
    return { user: userView(toUser(user)), tenant: tenantView(tenant), session: { method: principal.method } };
  });

  /** An authenticated no-op: what the benchmark compares against `/healthz`. */
  app.get('/api/ping', { preHandler: requirePrincipal(ctx) }, async (_request, reply) => reply.code(204).send());

  app.get('/api/invitations/:token', { schema: invitationToken }, async (request) => {
    const { token } = request.params as { token: string };
    return describeInvitation(ctx, token);
  });

  app.post(
    '/api/invitations/:token/accept',
    { ...limited, schema: { ...invitationToken, ...body({ firstName: name, lastName: name, password }, ['firstName', 'lastName']) } },
    async (request, reply) => {
      const { token } = request.params as { token: string };
      const result = await acceptInvitation(ctx, token, request.body as { firstName: string; lastName: string; password?: string });
      if (result.kind === 'redirect') return { redirect: result.redirect };
      setSessionCookie(ctx, reply, result.token, result.expiresAt);
      return { user: userView(result.user), tenant: tenantView(result.tenant) };
    },
  );

  app.post(
    '/api/setup',
    {
      ...limited,
      schema: body(
        { token: text(200), tenantName: text(100), tenantSlug: text(40), email, firstName: name, lastName: name, password },
        ['token', 'tenantName', 'tenantSlug', 'email', 'firstName', 'lastName', 'password'],
      ),
    },
    async (request, reply) => {
      const result = await completeSetup(ctx, request.body as Parameters<typeof completeSetup>[1]);
      setSessionCookie(ctx, reply, result.token, result.expiresAt);
      return reply.code(201).send({ user: userView(result.user), tenant: tenantView(result.tenant) });
    },
  );

  app.get('/api/members', { preValidation: admin }, async (request) => {
    const tenantId = tenantOf(request);
    const [members, invitations] = await Promise.all([listMembers(ctx, tenantId), listInvitations(ctx, tenantId)]);
    return { members: members.map(({ tenantId: _, ...member }) => member), invitations };
  });

  app.post('/api/members/invitations', { preValidation: admin, schema: body({ email, role }, ['email', 'role']) }, async (request, reply) => {
    const input = request.body as { email: string; role: 'admin' | 'member' };
    const result = await createInvitation(ctx, tenantOf(request), { ...input, invitedBy: request.member!.id });
    return reply.code(201).send(result);
  });

  app.delete('/api/members/invitations/:id', { preValidation: admin, schema: id }, async (request, reply) => {
    await revokeInvitation(ctx, tenantOf(request), (request.params as { id: string }).id);
    return reply.code(204).send();
  });

  for (const [action, change] of [
    ['deactivate', deactivateMember],
    ['reactivate', reactivateMember],
  ] as const) {
    app.post(`/api/members/:id/${action}`, { preValidation: admin, schema: id }, async (request) => {
      const { tenantId: _, ...member } = await change(ctx, tenantOf(request), (request.params as { id: string }).id);
      return { member };
    });
  }

  app.patch('/api/members/:id', { preValidation: admin, schema: { ...id, ...body({ role }, ['role']) } }, async (request) => {
    const { role } = request.body as { role: 'admin' | 'member' };
    const { tenantId: _, ...member } = await changeRole(ctx, tenantOf(request), (request.params as { id: string }).id, role);
    return { member };
  });

  app.delete('/api/members/:id/sso-identity', { preValidation: admin, schema: id }, async (request, reply) => {
    await clearSsoIdentity(ctx, tenantOf(request), (request.params as { id: string }).id);
    return reply.code(204).send();
  });
}
