import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { getTenant, getUser, type Tenant, type UserRow } from '../accounts/tenants.ts';
import type { Context } from '../context.ts';
import { AppError } from '../errors/catalogue.ts';
import type { Principal } from '../sessions/sessions.ts';

export const SESSION_COOKIE = 'jams_session';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** The signed-in user, loaded by {@link requireUser} / {@link requireAdmin}. */
    member: UserRow | null;
  }
}

/** The bearer token, else the session cookie. */
export function tokenFrom(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match?.[1];
  }
  return request.cookies[SESSION_COOKIE];
}

export function hasBearer(request: FastifyRequest): boolean {
  return request.headers.authorization !== undefined;
}

/** Sets the session cookie: HttpOnly so scripts cannot read it, SameSite=Lax against cross-site posts. */
export function setSessionCookie(ctx: Context, reply: FastifyReply, token: string, expiresAt: number): void {
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.config.secureCookies,
    path: '/',
    expires: new Date(expiresAt),
  });
}

export function clearSessionCookie(ctx: Context, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: ctx.config.secureCookies, path: '/' });
}

/** Resolves who the request acts for, or refuses `unauthenticated`. */
export function requirePrincipal(ctx: Context): preHandlerAsyncHookHandler {
  return async (request) => {
    const token = tokenFrom(request);
    const principal = token ? await ctx.sessions.authenticate(token) : null;
    if (!principal) throw new AppError('unauthenticated');
    request.principal = principal;
  };
}

async function loadMember(ctx: Context, request: FastifyRequest): Promise<UserRow> {
  const token = tokenFrom(request);
  const principal = token ? await ctx.sessions.authenticate(token) : null;
  if (!principal) throw new AppError('unauthenticated');
  // Bots call the API but cannot manage SSO or members (SPEC 6).
  if (principal.kind !== 'user') throw new AppError('forbidden');
  const user = await getUser(ctx.db, principal.tenantId, principal.userId);
  if (!user || user.status !== 'active') throw new AppError('unauthenticated');
  request.principal = principal;
  request.member = user;
  return user;
}

/** A signed-in, active user (not a bot). */
export function requireUser(ctx: Context): preHandlerAsyncHookHandler {
  return async (request) => {
    await loadMember(ctx, request);
  };
}

/** An active admin of the tenant. Role is read from the database, so a demotion counts at once. */
export function requireAdmin(ctx: Context): preHandlerAsyncHookHandler {
  return async (request) => {
    const user = await loadMember(ctx, request);
    if (user.role !== 'admin') throw new AppError('admin_required');
  };
}

/** The admin's tenant id on an admin route. */
export function tenantOf(request: FastifyRequest): string {
  const principal = request.principal;
  if (!principal) throw new AppError('unauthenticated');
  return principal.tenantId;
}

export async function tenantOrThrow(ctx: Context, tenantId: string): Promise<Tenant> {
  const tenant = await getTenant(ctx.db, tenantId);
  if (!tenant) throw new AppError('unauthenticated');
  return tenant;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function originOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return new URL(value).origin;
  } catch {
    return 'invalid';
  }
}

/**
 * CSRF defence (SPEC 8.2): a state-changing request that a browser could
 * send with our session cookie must come from our own origin. Bearer
 * requests are exempt: a browser never attaches that header by itself. A
 * foreign Origin is refused even without a cookie (login CSRF).
 */
export function csrfCheck(ctx: Context) {
  return async (request: FastifyRequest) => {
    if (!STATE_CHANGING.has(request.method) || hasBearer(request)) return;
    const origin = request.headers.origin ?? originOf(request.headers.referer);
    const allowed = origin === undefined ? request.cookies[SESSION_COOKIE] === undefined : origin === ctx.config.publicOrigin;
    if (!allowed) throw new AppError('csrf_rejected');
  };
}
