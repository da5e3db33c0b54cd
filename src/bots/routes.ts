import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.ts';
import { requireAdmin, tenantOf } from '../http/auth.ts';
import { body, params, text } from '../http/schema.ts';
import { BOT_EXPIRY_DAYS, createBot, listBots, revokeBot } from './bots.ts';

/** Bot API tokens (SPEC 6), managed by admins. */
export async function botRoutes(app: FastifyInstance, ctx: Context): Promise<void> {
  const admin = requireAdmin(ctx);

  app.get('/api/bots', { preValidation: admin }, async (request) => ({ bots: await listBots(ctx, tenantOf(request)) }));

  app.post(
    '/api/bots',
    { preValidation: admin, schema: body({ name: text(100), expiresInDays: { type: 'integer', enum: [...BOT_EXPIRY_DAYS] } }, ['name']) },
    async (request, reply) => {
      const input = request.body as { name: string; expiresInDays?: number };
      return reply.code(201).send(await createBot(ctx, tenantOf(request), { ...input, createdBy: request.member!.id }));
    },
  );

  app.delete('/api/bots/:id', { preValidation: admin, schema: params({ id: text(100) }) }, async (request, reply) => {
    await revokeBot(ctx, tenantOf(request), (request.params as { id: string }).id);
    return reply.code(204).send();
  });
}
