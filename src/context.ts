import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Db } from './db/db.ts';
import type { Sealer } from './keys/sealer.ts';
import type { KeyRing } from './keys/signing-keys.ts';
import type { Mailer } from './mail/mailer.ts';
import type { Sessions } from './sessions/sessions.ts';

/** The running server's parts, built once at start and handed to every capability. */
export interface Context {
  readonly config: Config;
  readonly db: Db;
  readonly clock: Clock;
  readonly sealer: Sealer;
  readonly keys: KeyRing;
  readonly sessions: Sessions;
  readonly mailer: Mailer | undefined;
  readonly log: Logger;
}
