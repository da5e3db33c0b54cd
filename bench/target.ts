/**
 * The server under test: a real `node src/main.ts` process on a free loopback
 * port, with its own data directory (and, on PostgreSQL, its own schema), set
 * up the way an operator would: the CLI creates the tenant, the invitation
 * API creates the admin.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const ADMIN_EMAIL = 'admin@bench.test';
export const ADMIN_PASSWORD = 'bench password, long enough';
export const TENANT_SLUG = 'bench';

/** Where one server's data lives: a temp dir, and on PostgreSQL a schema of its own. */
export interface Store {
  readonly dataDir: string;
  /** DATABASE_URL for the server, pointing at the store's schema; undefined for SQLite. */
  readonly databaseUrl: string | undefined;
  drop(): Promise<void>;
}

/** A fresh, empty store on the engine `databaseUrl` names (SQLite when undefined). */
export async function createStore(databaseUrl: string | undefined): Promise<Store> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'jams-bench-'));
  if (!databaseUrl) {
    return { dataDir, databaseUrl: undefined, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  await adminQuery(databaseUrl, `CREATE SCHEMA ${schema}`);
  const url = new URL(databaseUrl);
  // libpq's `options`: every connection of the server's pool starts in this schema.
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    dataDir,
    databaseUrl: url.href,
    async drop() {
      await adminQuery(databaseUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function adminQuery(databaseUrl: string, sql: string): Promise<string | undefined> {
  const url = new URL(databaseUrl);
  // As the server does: libpq's default user is the OS user, which pg does not read.
  if (!url.username && !process.env.PGUSER) url.username = userInfo().username;
  const client = new pg.Client({ connectionString: url.href });
  await client.connect();
  try {
    const result = await client.query(sql);
    return result.rows[0] ? String(Object.values(result.rows[0])[0]) : undefined;
  } finally {
    await client.end();
  }
}

/** "PostgreSQL 15.20" or "SQLite 3.x (node:sqlite)": what the table names as the engine. */
export async function engineName(databaseUrl: string | undefined): Promise<string> {
  if (databaseUrl) return `PostgreSQL ${await adminQuery(databaseUrl, 'SHOW server_version')}`;
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(':memory:');
  const row = db.prepare('SELECT sqlite_version() AS v').get() as { v: string };
  db.close();
  return `SQLite ${row.v} (node:sqlite, embedded)`;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The environment the server and the CLI share (SPEC 8.1), with rate limits out of the way. */
export function serverEnv(store: Store, port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: store.dataDir,
    MASTER_KEY: `v1:${randomBytes(32).toString('base64')}`,
    // Requests are logged at info; the benchmark measures the server, not its log volume.
    LOG_LEVEL: 'warn',
    // Every load generator request comes from 127.0.0.1 and one email.
    RATE_LIMIT_SIGNIN_PER_MINUTE: '1000000000',
    RATE_LIMIT_FAILED_SIGNINS_PER_EMAIL: '1000000000',
  };
  if (store.databaseUrl) env.DATABASE_URL = store.databaseUrl;
  return env;
}

export interface Target {
  readonly url: string;
  readonly pid: number;
  readonly env: NodeJS.ProcessEnv;
  /** Milliseconds from spawning the process to the first 200 from `/healthz`. */
  readonly readyMs: number;
  stop(): Promise<void>;
}

/** Spawns `node src/main.ts` and waits until `/healthz` answers. */
export async function startTarget(env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<Target> {
  const url = env.PUBLIC_URL!;
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, 'src/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let readyMs: number | undefined;
  while (readyMs === undefined) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${output}`);
    if (performance.now() - started > 30_000) {
      child.kill('SIGKILL');
      throw new Error(`the server did not answer /healthz within 30 s:\n${output}`);
    }
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200) readyMs = performance.now() - started;
      await response.arrayBuffer();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  return {
    url,
    pid: child.pid!,
    env,
    readyMs,
    stop: () => stop(child, exited),
  };
}

async function stop(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Runs the operator CLI with the server's environment; answers its stdout. */
export async function cli(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['src/cli/main.ts', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`jams-imes ${args.join(' ')} exited with ${code}:\n${stderr}`);
  return stdout;
}

/** The value of one cookie among a response's Set-Cookie headers. */
export function cookieFrom(response: Response, name: string): string | undefined {
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(';', 1)[0]!;
    const eq = pair.indexOf('=');
    if (pair.slice(0, eq) === name) return pair.slice(eq + 1);
  }
  return undefined;
}

/** Creates the bench tenant with the CLI (before the server starts, like an operator would). */
export async function createTenant(env: NodeJS.ProcessEnv): Promise<string> {
  const out = await cli(env, ['tenant', 'create', '--name', 'Bench', '--slug', TENANT_SLUG, '--admin-email', ADMIN_EMAIL]);
  const inviteUrl = out.split('\n').find((line) => /^https?:\/\//.test(line.trim()));
  if (!inviteUrl) throw new Error(`tenant create printed no invite URL:\n${out}`);
  return inviteUrl.trim();
}

/** Accepts the admin's invitation through the API; answers the session token. */
export async function acceptInvitation(target: Target, inviteUrl: string): Promise<string> {
  const token = new URL(inviteUrl).pathname.split('/').pop()!;
  const response = await fetch(`${target.url}/api/invitations/${token}/accept`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: target.url },
    body: JSON.stringify({ firstName: 'Bench', lastName: 'Admin', password: ADMIN_PASSWORD }),
  });
  if (response.status !== 200) throw new Error(`accepting the invitation answered ${response.status}: ${await response.text()}`);
  const session = cookieFrom(response, 'jams_session');
  if (!session) throw new Error('accepting the invitation set no session cookie');
  return session;
}
