/**
 * One fixture factory for every test: a whole server on a fresh database of
 * the engine under test. `TEST_DATABASE_URL=postgres://…` runs the suite on
 * PostgreSQL (each instance in its own schema); otherwise SQLite in a temp dir.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { hashPassword } from '../src/accounts/passwords.ts';
import { createTenant, insertUser, type Role } from '../src/accounts/tenants.ts';
import type { Clock } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import { openDb } from '../src/db/db.ts';
import { SESSION_COOKIE } from '../src/http/auth.ts';
import { createServer, type Server } from '../src/server.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;
export const engine = TEST_DATABASE_URL ? 'postgres' : 'sqlite';

/** A clock the test moves by hand. */
export class TestClock implements Clock {
  #now: number;
  constructor(start = Date.now()) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** Where a test's data lives: a temp dir (SQLite file, key file), and on PostgreSQL a schema of its own. */
export interface TestDatabase {
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly schema: string | undefined;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'jams-test-'));
  const schema = TEST_DATABASE_URL ? `t_${randomBytes(6).toString('hex')}` : undefined;
  return {
    dataDir,
    databaseUrl: TEST_DATABASE_URL,
    schema,
    async drop() {
      if (schema) {
        const admin = await openDb({ databaseUrl: TEST_DATABASE_URL, sqlitePath: '' });
        await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.close();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A free loopback port (for instances that must listen, e.g. behind a browser or an IdP redirect). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface TestInstanceOptions {
  /** Share another instance's database (several instances, one database). */
  database?: TestDatabase;
  /** Listen on a real loopback port; PUBLIC_URL becomes that address. */
  listen?: boolean;
  clock?: TestClock;
  /** Extra environment for loadConfig (e.g. SMTP_URL, MASTER_KEY). */
  env?: Record<string, string>;
  webRoot?: string;
}

export interface TestInstance {
  readonly server: Server;
  readonly ctx: Server['ctx'];
  readonly clock: TestClock;
  readonly database: TestDatabase;
  /** Every log line the server wrote, as raw JSON text. */
  readonly logs: string[];
  readonly publicUrl: string;
  /** In-process request; state-changing requests carry our Origin unless the test sets one. */
  inject(options: InjectOptions & { token?: string }): Promise<LightMyRequestResponse>;
  /** A tenant with one admin who has a password. */
  seedTenant(input?: { slug?: string; name?: string; adminEmail?: string; password?: string }): Promise<Seeded>;
  /** Adds a user straight into a tenant (as if invited and accepted). */
  seedUser(tenantId: string, input: { email: string; role?: Role; password?: string | null }): Promise<{ id: string }>;
  /** Password sign-in; answers the session token from the cookie. */
  login(email: string, password: string, tenant?: string): Promise<string>;
  close(): Promise<void>;
}

export interface Seeded {
  tenant: { id: string; slug: string; name: string };
  admin: { id: string; email: string; password: string; token: string };
}

let counter = 0;
export const PASSWORD = 'correct horse battery staple';

/** Builds a whole server for one test. Close it in an `after` / `t.after` hook. */
export async function getTestInstance(options: TestInstanceOptions = {}): Promise<TestInstance> {
  const database = options.database ?? (await createTestDatabase());
  const ownsDatabase = !options.database;
  const clock = options.clock ?? new TestClock();
  const port = options.listen ? await freePort() : 3000;
  const publicUrl = options.listen ? `http://127.0.0.1:${port}` : 'http://localhost:3000';
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: publicUrl,
    DATA_DIR: database.dataDir,
    MASTER_KEY: options.env?.MASTER_KEY ?? `v1:${Buffer.alloc(32, 7).toString('base64')}`,
    LOG_LEVEL: 'info',
    ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
    ...options.env,
  });
  const db = await openDb({
    databaseUrl: config.databaseUrl,
    sqlitePath: path.join(config.dataDir, 'jams-imes.db'),
    ...(database.schema ? { schema: database.schema } : {}),
  });
  const logs: string[] = [];
  const server = await createServer(config, {
    clock,
    db,
    logDestination: { write: (line: string) => void logs.push(line) },
    webRoot: options.webRoot,
  });
  if (options.listen) await server.app.listen({ port, host: '127.0.0.1' });
  let closing: Promise<void> | undefined;

  const instance: TestInstance = {
    server,
    ctx: server.ctx,
    clock,
    database,
    logs,
    publicUrl,
    inject({ token, ...request }) {
      const headers: Record<string, string> = { ...(request.headers as Record<string, string>) };
      if (!('origin' in headers) && request.method && request.method !== 'GET') headers.origin = config.publicOrigin;
      if (token) headers.authorization = `Bearer ${token}`;
      return server.app.inject({ ...request, headers });
    },
    async seedTenant(input = {}) {
      const n = ++counter;
      const slug = input.slug ?? `acme${n}`;
      const tenant = await createTenant(db, { name: input.name ?? `Acme ${n}`, slug }, clock.now());
      const email = input.adminEmail ?? `admin@${slug}.test`;
      const password = input.password ?? PASSWORD;
      const { id } = await instance.seedUser(tenant.id, { email, role: 'admin', password });
      const token = await instance.login(email, password, slug);
      return { tenant, admin: { id, email, password, token } };
    },
    async seedUser(tenantId, input) {
      const password = input.password === undefined ? PASSWORD : input.password;
      const user = await insertUser(
        db,
        tenantId,
        {
          email: input.email.toLowerCase(),
          firstName: 'Test',
          lastName: 'User',
          role: input.role ?? 'member',
          passwordHash: password === null ? null : await hashPassword(password),
        },
        clock.now(),
      );
      return { id: user.id };
    },
    async login(email, password, tenant) {
      const response = await instance.inject({
        method: 'POST',
        url: '/api/auth/password',
        payload: { email, password, ...(tenant ? { tenant } : {}) },
      });
      if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
      const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE);
      if (!cookie) throw new Error('no session cookie');
      return cookie.value;
    },
    close() {
      // Idempotent, so a test can close an instance early and still register it for cleanup.
      closing ??= (async () => {
        await server.close();
        await db.close();
        if (ownsDatabase) await database.drop();
      })();
      return closing;
    },
  };
  return instance;
}

/**
 * Two server instances sharing one fresh database, as behind a load
 * balancer; closed, and the database dropped, when the test ends.
 */
export async function twoInstances(
  t: { after(fn: () => Promise<void>): void },
  options: Omit<TestInstanceOptions, 'database'> = {},
): Promise<[TestInstance, TestInstance]> {
  const database = await createTestDatabase();
  const a = await getTestInstance({ ...options, database });
  const b = await getTestInstance({ ...options, database });
  t.after(async () => {
    await a.close();
    await b.close();
    await database.drop();
  });
  return [a, b];
}
