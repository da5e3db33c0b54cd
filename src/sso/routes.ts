import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.ts';

/** SSO configuration (SPEC 3) and the sign-in flow (SPEC 4). */
export async function ssoRoutes(_app: FastifyInstance, _ctx: Context): Promise<void> {}
