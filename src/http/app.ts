import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { accountRoutes } from '../accounts/routes.ts';
import { botRoutes } from '../bots/routes.ts';
import type { Context } from '../context.ts';
import { AppError } from '../errors/catalogue.ts';
import { ssoRoutes } from '../sso/routes.ts';
import { csrfCheck } from './auth.ts';
import { errorHandler, sendError } from './errors.ts';

export interface AppOptions {
  /** Folder of the built web app; not served when absent. */
  webRoot?: string | undefined;
  /** Trust X-Forwarded-For from a reverse proxy, for per-IP rate limits. */
  trustProxy?: boolean;
}

/** Paths that never fall back to the web app's index.html. */
const API_PATH = /^\/(api|auth|\.well-known)(\/|$)|^\/healthz$/;

/** Builds the HTTP app over a running context. Nothing listens until the caller says so. */
export async function buildApp(ctx: Context, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    bodyLimit: 64 * 1024,
    trustProxy: options.trustProxy ?? false,
    // Unknown fields are refused and types are not coerced: bad input is an
    // error the caller sees, not something silently reshaped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } },
    routerOptions: { maxParamLength: 500 },
    // A URL that cannot be decoded is answered like any other bad input.
    frameworkErrors: (error, request, reply) => errorHandler(error, request, reply),
  });

  app.setErrorHandler(errorHandler);
  app.decorateRequest('principal', null);
  app.decorateRequest('member', null);

  await app.register(fastifyCookie);
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: ctx.config.secureCookies ? [] : null,
      },
    },
    strictTransportSecurity: ctx.config.secureCookies,
  });
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => new AppError('rate_limited', { retryAfter: Math.ceil(context.ttl / 1000) }),
  });
  app.addHook('onRequest', csrfCheck(ctx));

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return ctx.keys.publicJwks();
  });

  await app.register(async (scope) => accountRoutes(scope, ctx));
  await app.register(async (scope) => ssoRoutes(scope, ctx));
  await app.register(async (scope) => botRoutes(scope, ctx));

  const webRoot = options.webRoot;
  const hasWeb = webRoot !== undefined && existsSync(path.join(webRoot, 'index.html'));
  if (hasWeb) {
    await app.register(fastifyStatic, {
      root: webRoot,
      wildcard: true,
      index: false,
      setHeaders: (reply, file) => {
        // Vite fingerprints everything under assets/: safe to cache for good.
        if (file.includes(`${path.sep}assets${path.sep}`)) reply.header('cache-control', 'public, max-age=31536000, immutable');
      },
    });
  }
  app.setNotFoundHandler((request, reply) => {
    const pathname = request.url.split('?', 1)[0]!;
    if (hasWeb && request.method === 'GET' && !API_PATH.test(pathname)) {
      // A client-side route: the web app decides what to show.
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    }
    return sendError(reply, 'not_found');
  });
  return app;
}
