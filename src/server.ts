import path from 'node:path';
import type { DestinationStream } from 'pino';
import type { FastifyInstance } from 'fastify';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Context } from './context.ts';
import { openDb, type Db } from './db/db.ts';
import { migrate } from './db/migrate.ts';
import { buildApp, type AppOptions } from './http/app.ts';
import { createLogger } from './http/logging.ts';
import { envMasterKeySource, fileMasterKeySource, type MasterKeySource } from './keys/master-key.ts';
import { createSealer } from './keys/sealer.ts';
import { KeyRing } from './keys/signing-keys.ts';
import { createMailer } from './mail/mailer.ts';
import { Sessions } from './sessions/sessions.ts';

export interface ContextOptions {
  clock?: Clock;
  /** Where log lines go (tests capture them); stdout by default. */
  logDestination?: DestinationStream;
  /** An already open database (tests); otherwise opened from the config. */
  db?: Db;
  /** The master key source; from `MASTER_KEY`, else a key file in the data directory. */
  masterKeys?: MasterKeySource;
}

/** The master key source the configuration asks for. */
export function masterKeySourceFor(config: Config, warn: (message: string) => void): MasterKeySource {
  if (config.masterKey) return envMasterKeySource(config.masterKey);
  return fileMasterKeySource(config.dataDir, (file) =>
    warn(`No MASTER_KEY set: generated a master key in ${file} (mode 0600). Set MASTER_KEY in production.`),
  );
}

/** Opens the database (migrating it), the keys and the sessions: everything a server or the CLI needs. */
export async function createContext(config: Config, options: ContextOptions = {}): Promise<Context> {
  const clock = options.clock ?? systemClock;
  const log = createLogger(config.logLevel, options.logDestination);
  const db = options.db ?? (await openDb({ databaseUrl: config.databaseUrl, sqlitePath: path.join(config.dataDir, 'jams-imes.db') }));
  try {
    await migrate(db, clock.now());
    const masterKeys = options.masterKeys ?? masterKeySourceFor(config, (message) => log.warn(message));
    const sealer = createSealer(masterKeys);
    const keys = await KeyRing.open(db, sealer, clock, config.publicUrl);
    const sessions = new Sessions(db, keys, clock);
    const mailer = config.smtpUrl ? createMailer(config.smtpUrl, `JAMS IMES <no-reply@${new URL(config.publicUrl).hostname}>`) : undefined;
    return { config, db, clock, sealer, keys, sessions, mailer, log };
  } catch (error) {
    if (!options.db) await db.close();
    throw error;
  }
}

export interface Server {
  readonly ctx: Context;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** A whole server, built but not listening. */
export async function createServer(config: Config, options: ContextOptions & AppOptions = {}): Promise<Server> {
  const ctx = await createContext(config, options);
  await ctx.sessions.start();
  const app = await buildApp(ctx, options);
  return {
    ctx,
    app,
    async close() {
      ctx.sessions.stop();
      await app.close();
      if (!options.db) await ctx.db.close();
    },
  };
}
