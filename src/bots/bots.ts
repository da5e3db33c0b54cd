import { randomUUID } from 'node:crypto';
import type { Context } from '../context.ts';
import type { Db } from '../db/db.ts';
import { AppError } from '../errors/catalogue.ts';

/** The expiries an admin may choose (SPEC 6); none means the token never expires. */
export const BOT_EXPIRY_DAYS = [30, 90, 365] as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface Bot {
  id: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
}

interface BotRow {
  id: string;
  name: string;
  created_at: number;
  expires_at: number | null;
}

const view = (row: BotRow): Bot => ({
  id: row.id,
  name: row.name,
  createdAt: new Date(row.created_at).toISOString(),
  expiresAt: row.expires_at === null ? null : new Date(row.expires_at).toISOString(),
});

/** Creates a bot and its token. The token is answered once and never stored: only its key id is. */
export async function createBot(
  ctx: Context,
  tenantId: string,
  input: { name: string; expiresInDays?: number | undefined; createdBy: string },
): Promise<{ bot: Bot; token: string }> {
  const name = input.name.trim();
  if (!name) throw new AppError('invalid_body', { field: 'name' }, 'Give the bot a name.');
  const days = input.expiresInDays;
  if (days !== undefined && !(BOT_EXPIRY_DAYS as readonly number[]).includes(days)) throw new AppError('bot_expiry_invalid');
  const now = ctx.clock.now();
  const row: BotRow = { id: randomUUID(), name, created_at: now, expires_at: days === undefined ? null : now + days * DAY_MS };
  const { token, kid } = await ctx.keys.sign({ typ: 'bot', sub: row.id, tid: tenantId }, row.expires_at);
  await ctx.db.run(
    'INSERT INTO bots (id, tenant_id, name, created_by, kid, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [row.id, tenantId, name, input.createdBy, kid, now, row.expires_at],
  );
  return { bot: view(row), token };
}

/** The tenant's bots that can still call the API. */
export async function listBots(ctx: Context, tenantId: string): Promise<Bot[]> {
  const rows = await ctx.db.all<BotRow>(
    `SELECT id, name, created_at, expires_at FROM bots
     WHERE tenant_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at DESC`,
    [tenantId, ctx.clock.now()],
  );
  return rows.map(view);
}

export async function getBot(ctx: Context, tenantId: string, botId: string): Promise<Bot | undefined> {
  const row = await ctx.db.one<BotRow>('SELECT id, name, created_at, expires_at FROM bots WHERE tenant_id = $1 AND id = $2', [tenantId, botId]);
  return row && view(row);
}

/** Revokes a bot's token; every instance refuses it from its next request on. */
export async function revokeBot(ctx: Context, tenantId: string, botId: string): Promise<void> {
  const changed = await ctx.db.run('UPDATE bots SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL', [
    ctx.clock.now(),
    tenantId,
    botId,
  ]);
  if (changed === 0) throw new AppError('not_found');
}

/** A deactivated member leaves no live token behind, including the bots they created. */
export async function revokeBotsCreatedBy(db: Db, tenantId: string, userId: string, now: number): Promise<void> {
  await db.run('UPDATE bots SET revoked_at = $1 WHERE tenant_id = $2 AND created_by = $3 AND revoked_at IS NULL', [now, tenantId, userId]);
}
