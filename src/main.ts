import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSetupLink } from './accounts/setup.ts';
import { ConfigError, loadConfig } from './config.ts';
import { MasterKeyError } from './keys/master-key.ts';
import { SealError } from './keys/sealer.ts';
import { createServer } from './server.ts';

const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web/dist');

/** Starts the server from the environment; exits with a clear sentence on bad configuration. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`jams-imes: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  let server;
  try {
    server = await createServer(config, { webRoot });
  } catch (error) {
    if (error instanceof MasterKeyError || error instanceof SealError) {
      const hint = error instanceof SealError ? '. MASTER_KEY must hold every key version still in use' : '';
      process.stderr.write(`jams-imes: ${error.message}${hint}\n`);
      process.exit(1);
    }
    throw error;
  }
  await server.app.listen({ port: config.port, host: config.host });
  const setupLink = await createSetupLink(server.ctx);
  if (setupLink) {
    // Straight to the operator's terminal, not the log: it is a one-time secret.
    process.stdout.write(`\n  JAMS IMES has no tenant yet. Open this one-time link to create the first one:\n\n    ${setupLink}\n\n`);
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void server.close().then(() => process.exit(0));
    });
  }
}

await main();
