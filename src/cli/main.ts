#!/usr/bin/env node
/**
 * `jams-imes`: the operator's command line (SPEC 8.3). Talks to the database
 * named by the same environment as the server; needs no running server.
 */
import { parseArgs } from 'node:util';
import { createInvitation } from '../accounts/invitations.ts';
import { createTenant, getTenantBySlug, listTenants } from '../accounts/tenants.ts';
import { ConfigError, loadConfig } from '../config.ts';
import type { Context } from '../context.ts';
import { migrate } from '../db/migrate.ts';
import { AppError, catalogue, type ErrorEntry } from '../errors/catalogue.ts';
import { addVersionToKeyFile, MasterKeyError } from '../keys/master-key.ts';
import { resealAll } from '../keys/rotation.ts';
import { SealError } from '../keys/sealer.ts';
import { addSigningKey } from '../keys/signing-keys.ts';
import { createContext } from '../server.ts';
import { disableEnforcement } from '../sso/summary.ts';

const USAGE = `Usage: jams-imes <command>

  tenant create --name "Acme" --slug acme --admin-email a@acme.test
                                     create a tenant; prints its admin's invite URL
  tenant list                        list tenants
  sso enforce off --tenant acme      break-glass: turn Enforce SSO off
  keys rotate                        add a new signing key (old ones keep verifying)
  keys list                          list signing keys
  secrets rotate-master-key          re-encrypt every secret under the first MASTER_KEY version
  migrate                            apply database migrations (also done at start)

Reads the same environment as the server (DATABASE_URL, DATA_DIR, MASTER_KEY, PUBLIC_URL).`;

const out = (line = '') => process.stdout.write(`${line}\n`);

class UsageError extends Error {}

type Values = Record<string, string | boolean | undefined>;

/** Options a command cannot do without: checked before anything is opened. */
const REQUIRED: Record<string, string[]> = {
  'tenant create': ['name', 'slug', 'admin-email'],
  'sso enforce off': ['tenant'],
};

function option(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || !value.trim()) throw new UsageError(`--${name} is required.`);
  return value;
}

async function tenantBySlug(ctx: Context, slug: string) {
  const tenant = await getTenantBySlug(ctx.db, slug);
  if (!tenant) throw new UsageError(`No tenant with slug "${slug}". See \`jams-imes tenant list\`.`);
  return tenant;
}

type Command = (ctx: Context, values: Values) => Promise<void>;

const commands: Record<string, Command> = {
  async 'tenant create'(ctx, values) {
    const name = option(values, 'name');
    const slug = option(values, 'slug');
    const email = option(values, 'admin-email');
    const tenant = await createTenant(ctx.db, { name, slug }, ctx.clock.now());
    const { inviteUrl } = await createInvitation(ctx, tenant.id, { email, role: 'admin', invitedBy: null });
    out(`Created tenant "${tenant.name}" (${tenant.slug}).`);
    out(`Send this one-time link to ${email}; it is valid for 7 days:`);
    out(inviteUrl);
  },
  async 'tenant list'(ctx) {
    const tenants = await listTenants(ctx.db);
    if (tenants.length === 0) out('No tenants yet. Create one with `jams-imes tenant create`.');
    for (const tenant of tenants) out(`${tenant.slug}\t${tenant.name}\t${tenant.members} member(s)`);
  },
  async 'sso enforce off'(ctx, values) {
    const tenant = await tenantBySlug(ctx, option(values, 'tenant'));
    if (!(await disableEnforcement(ctx.db, tenant.id, ctx.clock.now()))) {
      out(`Tenant ${tenant.slug} has no SSO configuration; password sign-in is already on.`);
      return;
    }
    out(`Enforce SSO is off for ${tenant.slug}: members can sign in with their passwords again.`);
  },
  async 'keys rotate'(ctx) {
    const kid = await addSigningKey(ctx.db, ctx.sealer, ctx.clock.now());
    out(`Added signing key ${kid}. Running servers sign with it within 10 seconds;`);
    out('older keys keep verifying until the last token signed with them expires.');
  },
  async 'keys list'(ctx) {
    out('kid\talg\tcreated\tstate');
    for (const key of await ctx.keys.summary()) {
      const state = key.active ? 'active' : key.published ? 'retired, still verifying' : 'retired, unpublished';
      out(`${key.kid}\t${key.alg}\t${new Date(key.createdAt).toISOString()}\t${state}`);
    }
  },
  async 'secrets rotate-master-key'(ctx) {
    if (!ctx.config.masterKey) {
      const added = addVersionToKeyFile(ctx.config.dataDir);
      out(`Added master key ${added.version} to the key file in ${ctx.config.dataDir}.`);
      // The context was opened before the new version existed.
      const fresh = await createContext(ctx.config);
      try {
        return report(await resealAll(fresh.db, fresh.sealer));
      } finally {
        await fresh.db.close();
      }
    }
    report(await resealAll(ctx.db, ctx.sealer));
  },
  async migrate(ctx) {
    // createContext has migrated already; say what the schema is at.
    const applied = await migrate(ctx.db);
    out(applied.length ? `Applied ${applied.join(', ')}.` : 'The database schema is up to date.');
  },
};

function report(result: Awaited<ReturnType<typeof resealAll>>): void {
  const counts = Object.entries(result.resealed).map(([table, n]) => `${n} in ${table}`).join(', ');
  out(`Re-encrypted under master key ${result.version}: ${counts}.`);
  if (result.remaining.length) {
    out(`Still sealed under ${result.remaining.join(', ')}: run the command again.`);
  } else {
    out(`Every secret is under ${result.version}. Older versions can now be removed from MASTER_KEY.`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      slug: { type: 'string' },
      'admin-email': { type: 'string' },
      tenant: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const name = Object.keys(commands).find((command) => command === positionals.join(' '));
  if (values.help || !name) {
    out(USAGE);
    return values.help ? 0 : 2;
  }
  for (const required of REQUIRED[name] ?? []) option(values, required);
  const ctx = await createContext(loadConfig(), { logDestination: process.stderr });
  try {
    await commands[name]!(ctx, values);
    return 0;
  } finally {
    await ctx.db.close();
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof MasterKeyError) {
    process.stderr.write(`jams-imes: ${error.message}\n`);
    process.exitCode = 2;
  } else if (error instanceof SealError) {
    process.stderr.write(`jams-imes: ${error.message}. MASTER_KEY must hold every version still in use (see the README on master-key rotation).\n`);
    process.exitCode = 1;
  } else if (error instanceof AppError) {
    const fix = (catalogue[error.code] as ErrorEntry).fix;
    process.stderr.write(`jams-imes: ${error.message}${fix ? ` ${fix}` : ''}\n`);
    process.exitCode = 1;
  } else if ((error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    process.stderr.write(`jams-imes: ${(error as Error).message}\n\n${USAGE}\n`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
