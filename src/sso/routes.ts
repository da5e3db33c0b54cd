import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Context } from '../context.ts';
import { requireAdmin, setSessionCookie, tenantOf } from '../http/auth.ts';
import { body, signInRateLimit, text } from '../http/schema.ts';
import { listAttempts } from './attempts.ts';
import { deleteConfig, getConfig, redirectUri, saveConfig, type ConfigInput } from './config.ts';
import { SsoFlow } from './flow.ts';
import { BINDING_COOKIE, STATE_TTL_MS } from './state.ts';

/** A claim name: printable ASCII, no spaces. */
const claimName = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[\\x21-\\x7e]+$' } as const;

const configBody = body(
  {
    name: text(100),
    issuer: text(2048),
    clientId: text(500),
    clientSecret: { type: ['string', 'null'], maxLength: 4096 },
    // RFC 6749 scope tokens, separated by spaces.
    scopes: { type: 'string', maxLength: 1000, pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e ]*$' },
    claims: {
      type: 'object',
      additionalProperties: false,
      properties: { email: claimName, firstName: claimName, lastName: claimName },
    },
    enforce: { type: 'boolean' },
  },
  ['name', 'issuer', 'clientId'],
);

const startQuery = {
  querystring: {
    type: 'object',
    properties: { tenant: text(40), login_hint: text(320, 0), return_to: text(2048, 0) },
  },
};

/** SSO configuration (SPEC 3) and the sign-in flow (SPEC 4). */
export async function ssoRoutes(app: FastifyInstance, ctx: Context): Promise<void> {
  const flow = new SsoFlow(ctx);
  const admin = requireAdmin(ctx);
  const limited = signInRateLimit(ctx);
  const bindingCookie = { httpOnly: true, sameSite: 'lax', secure: ctx.config.secureCookies, path: '/auth/sso' } as const;

  app.get('/api/integrations/sso', { onRequest: admin }, async (request) => ({
    redirectUri: redirectUri(ctx),
    config: await getConfig(ctx, tenantOf(request)),
  }));

  app.put('/api/integrations/sso', { onRequest: admin, schema: configBody }, async (request) =>
    saveConfig(ctx, tenantOf(request), request.body as ConfigInput),
  );

  app.delete('/api/integrations/sso', { onRequest: admin }, async (request, reply) => {
    await deleteConfig(ctx, tenantOf(request));
    return reply.code(204).send();
  });

  app.get('/api/integrations/sso/attempts', { onRequest: admin }, async (request) => ({
    attempts: await listAttempts(ctx, tenantOf(request)),
  }));

  const redirect = (reply: FastifyReply, location: string) => reply.header('cache-control', 'no-store').redirect(location, 302);

  app.get('/auth/sso/start', { ...limited, schema: startQuery }, async (request, reply) => {
    const query = request.query as { tenant?: string; login_hint?: string; return_to?: string };
    const result = await flow.start(
      { tenant: query.tenant, loginHint: query.login_hint, returnTo: query.return_to },
      request.cookies[BINDING_COOKIE],
    );
    if (result.binding) reply.setCookie(BINDING_COOKIE, result.binding, { ...bindingCookie, maxAge: STATE_TTL_MS / 1000 });
    return redirect(reply, result.location);
  });

  app.get('/auth/sso/callback', limited, async (request, reply) => {
    // The raw query, exactly as the IdP sent it: openid-client checks it whole.
    const at = request.url.indexOf('?');
    const query = at === -1 ? '' : request.url.slice(at + 1);
    const result = await flow.callback(query, request.cookies[BINDING_COOKIE]);
    reply.clearCookie(BINDING_COOKIE, bindingCookie);
    if (result.session) setSessionCookie(ctx, reply, result.session.token, result.session.expiresAt);
    return redirect(reply, result.location);
  });
}
