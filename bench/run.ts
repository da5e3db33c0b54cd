/**
 * `npm run bench`: measures what SPEC section 10 calls fast, on this machine,
 * and prints one Markdown table (also written to docs/benchmarks.md).
 *
 * The server under test is a real `node src/main.ts` process (embedded
 * SQLite, or PostgreSQL when DATABASE_URL is set); load comes from other
 * processes (autocannon's CLI, bench/sso-driver.ts); the IdP is the test
 * suite's oidc-provider in a process of its own. Every row is the median of
 * several runs. Nothing here passes or fails on the numbers: the exit code
 * says only whether every measurement could be taken.
 *
 *   npm run bench                      full run (SQLite), about 3 minutes
 *   DATABASE_URL=postgres://… npm run bench
 *   npm run bench -- --quick           one short run per row (CI smoke run)
 *   npm run bench -- --only auth,password --profile
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { autocannon, ssoLoad, type LoadOptions, type LoadResult } from './load.ts';
import { formatSummary } from './profile.ts';
import { rssMb } from './proc.ts';
import {
  acceptInvitation,
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createStore,
  createTenant,
  engineName,
  freePort,
  root,
  serverEnv,
  startTarget,
  TENANT_SLUG,
  type Target,
} from './target.ts';
import { loginWeight } from './web.ts';

const ROWS = ['auth', 'discover', 'sso', 'password', 'latency', 'startup', 'web'] as const;
type RowId = (typeof ROWS)[number];

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  process.stdout.write(`Usage: npm run bench [-- --quick] [-- --only ${ROWS.join(',')}] [-- --profile]

  --quick     one short run per row: checks the harness works, numbers mean little
  --only      measure only these rows (the table and docs/benchmarks.md are not written over)
  --profile   run the server under --cpu-prof and print where its main thread spent its time

PostgreSQL: set DATABASE_URL (a fresh schema is created and dropped).
`);
  process.exit(0);
}
const only = flags.only?.split(',').map((id) => id.trim()) ?? [...ROWS];
for (const id of only) if (!(ROWS as readonly string[]).includes(id)) throw new Error(`unknown row "${id}"; rows are ${ROWS.join(', ')}`);
const wanted = (id: RowId) => only.includes(id);

/** How long and how often. Full runs take the median of three; --quick only checks that each row still works. */
const plan = flags.quick
  ? { runs: 1, warmupS: 1, slices: 1, sliceS: 1, throughputS: 1, ssoS: 2, passwordS: 2, latencyS: 3, baselineS: 1, idleSettleMs: 200 }
  : { runs: 3, warmupS: 2, slices: 4, sliceS: 2, throughputS: 5, ssoS: 6, passwordS: 8, latencyS: 8, baselineS: 4, idleSettleMs: 2000 };

/** Enough open requests to keep one event loop busy and autocannon's own share of the CPU small. */
const THROUGHPUT_LOAD = { connections: 32, pipelining: 8 } as const;
/** Enough sign-ins in flight that hashing never waits for a request to arrive (the server hashes one per core at a time). */
const PASSWORD_CONNECTIONS = 8;
/** The authenticated traffic sent while password sign-ins run: a steady rate, so its latency shows stalls, not queueing. */
const LATENCY_PROBE = { connections: 4, rate: 200 } as const;
const SSO_CONCURRENCY = 4;

const databaseUrl = process.env.DATABASE_URL?.trim() || undefined;
const cores = os.availableParallelism();

interface Row {
  measure: string;
  result: string;
  target: string;
  /** undefined: a "report" row, or not measured. */
  met: boolean | undefined;
  /** Every run's value, for the notes under the table. */
  runs?: string;
}

const rows = new Map<RowId, Row>();
/** Other work on the machine skews every number: the table says how busy it was. */
const loadBefore = os.loadavg()[0]!;
let failures = 0;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const list = (values: number[], digits = 0) => values.map((v) => fmt(v, digits)).join(' / ');
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** Runs one row's measurement; a failure becomes an "error" cell and a non-zero exit, not a crash. */
async function measure(id: RowId, label: string, target: string, fn: () => Promise<Omit<Row, 'measure' | 'target'>>): Promise<void> {
  if (!wanted(id)) return;
  log(`${label}…`);
  try {
    rows.set(id, { measure: label, target, ...(await fn()) });
  } catch (error) {
    failures++;
    log(`${label} failed: ${(error as Error).stack ?? error}`);
    rows.set(id, { measure: label, target, result: `error: ${(error as Error).message.split('\n')[0]}`, met: false });
  }
}

/** A load run that must be answered with 2xx, else the row is not measuring what it says. */
async function load(options: LoadOptions, pid: number): Promise<LoadResult> {
  const result = await autocannon(options, pid);
  if (result.ok === 0 || result.failed > result.ok * 0.01) {
    throw new Error(`${options.method ?? 'GET'} ${new URL(options.url).pathname}: ${result.failed} failed, ${result.ok} ok`);
  }
  return result;
}

// ---------------------------------------------------------------- start-up

await measure('startup', 'time from process start to `/healthz` answering; resident memory at idle', '≤ 1.5 s; ≤ 150 MB', async () => {
  const ready: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < plan.runs; i++) {
    // A first start on an empty database: migrations and key generation included.
    const store = await createStore(databaseUrl);
    try {
      const target = await startTarget(serverEnv(store, await freePort()));
      ready.push(target.readyMs / 1000);
      await new Promise((resolve) => setTimeout(resolve, plan.idleSettleMs));
      rss.push(rssMb(target.pid));
      await target.stop();
    } finally {
      await store.drop();
    }
  }
  const [s, mb] = [median(ready), median(rss)];
  return { result: `${fmt(s, 2)} s; ${fmt(mb)} MB`, met: s <= 1.5 && mb <= 150, runs: `${list(ready, 2)} s; ${list(rss)} MB` };
});

// ---------------------------------------------------------------- the server under load

const needsServer = ROWS.filter((id) => id !== 'startup' && id !== 'web').some(wanted);
let target: Target | undefined;
let idp: ChildProcess | undefined;
const store = needsServer ? await createStore(databaseUrl) : undefined;
const profileDir = path.join(root, '.bench/profiles', new Date().toISOString().replace(/[:.]/g, '-'));

try {
  if (store) {
    const env = serverEnv(store, await freePort());
    // As an operator would: the CLI creates the tenant before the server runs.
    const inviteUrl = await createTenant(env);
    target = await startTarget(env, flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []);
    const session = await acceptInvitation(target, inviteUrl);
    await runServerRows(target, session);
  }
} finally {
  idp?.disconnect();
  await target?.stop();
  await store?.drop();
}

async function runServerRows(target: Target, session: string): Promise<void> {
  const { url, pid } = target;
  const cookie = `jams_session=${session}`;

  await measure('auth', 'authenticated no-op ÷ unauthenticated no-op, throughput', '≥ 0.85', async () => {
    const healthz: LoadOptions = { url: `${url}/healthz`, ...THROUGHPUT_LOAD, durationS: plan.sliceS };
    const ping: LoadOptions = { url: `${url}/api/ping`, headers: { cookie }, ...THROUGHPUT_LOAD, durationS: plan.sliceS };
    if (plan.warmupS) {
      await load({ ...healthz, durationS: plan.warmupS }, pid);
      await load({ ...ping, durationS: plan.warmupS }, pid);
    }
    // Each run alternates short slices (ABBA…), so a noisy neighbour weighs on both sides of its ratio alike.
    const runs: { healthz: LoadResult[]; ping: LoadResult[] }[] = [];
    for (let i = 0; i < plan.runs; i++) {
      const run = { healthz: [] as LoadResult[], ping: [] as LoadResult[] };
      for (let slice = 0; slice < plan.slices; slice++) {
        const order = slice % 2 ? (['ping', 'healthz'] as const) : (['healthz', 'ping'] as const);
        for (const side of order) run[side].push(await load(side === 'ping' ? ping : healthz, pid));
      }
      runs.push(run);
    }
    const rps = (results: LoadResult[]) => results.reduce((sum, r) => sum + r.ok, 0) / results.reduce((sum, r) => sum + r.seconds, 0);
    const cpu = (results: LoadResult[]) => median(results.map((r) => r.cpuUsPerRequest ?? NaN));
    const ratios = runs.map((run) => rps(run.ping) / rps(run.healthz));
    const ratio = median(ratios);
    return {
      result:
        `${fmt(ratio, 2)} (GET /api/ping with the session cookie ${fmt(median(runs.map((r) => rps(r.ping))))} req/s ÷ ` +
        `GET /healthz ${fmt(median(runs.map((r) => rps(r.healthz))))} req/s; server CPU ` +
        `${fmt(median(runs.map((r) => cpu(r.ping))))} vs ${fmt(median(runs.map((r) => cpu(r.healthz))))} µs/req)`,
      met: ratio >= 0.85,
      runs: `ratios ${list(ratios, 2)}`,
    };
  });

  await measure('discover', '`POST /api/auth/discover`, requests/s', 'report (one indexed query)', async () => {
    const options: LoadOptions = { url: `${url}/api/auth/discover`, method: 'POST', body: { email: ADMIN_EMAIL }, ...THROUGHPUT_LOAD, durationS: plan.throughputS };
    if (plan.warmupS) await load({ ...options, durationS: plan.warmupS }, pid);
    const results: LoadResult[] = [];
    for (let i = 0; i < plan.runs; i++) results.push(await load(options, pid));
    const rps = results.map((r) => r.rps);
    return {
      result: `${fmt(median(rps))} req/s (server CPU ${fmt(median(results.map((r) => r.cpuUsPerRequest ?? NaN)))} µs/req)`,
      met: undefined,
      runs: `${list(rps)} req/s`,
    };
  });

  await measure('sso', 'full SSO sign-in (start → IdP → callback): sign-ins/s; server CPU per sign-in', 'server ≤ 1 ms/sign-in', async () => {
    if (!(await ssoBuilt(url))) return { result: 'n/a (SSO not built)', met: undefined };
    await configureSso(target, cookie);
    const results = [];
    for (let i = 0; i < plan.runs; i++) {
      const result = await ssoLoad({ serverUrl: url, serverPid: pid, tenant: TENANT_SLUG, concurrency: SSO_CONCURRENCY, warmupS: plan.warmupS, durationS: plan.ssoS });
      if (result.ok === 0 || result.failed > result.ok * 0.01) throw new Error(`SSO sign-ins: ${result.failed} failed (${result.firstError}), ${result.ok} ok`);
      results.push(result);
    }
    const rate = results.map((r) => r.rate);
    const cpu = results.map((r) => r.serverCpuMs);
    const loop = median(results.map((r) => r.byThread.main ?? 0));
    return {
      result: `${fmt(median(rate), 1)} sign-ins/s; server ${fmt(median(cpu), 2)} ms CPU/sign-in (event loop ${fmt(loop, 2)} ms)`,
      met: median(cpu) <= 1,
      runs: `${list(rate, 1)} sign-ins/s; ${list(cpu, 2)} ms`,
    };
  });

  const signIn: LoadOptions = {
    url: `${url}/api/auth/password`,
    method: 'POST',
    body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
    connections: PASSWORD_CONNECTIONS,
    durationS: plan.passwordS,
  };

  await measure('password', 'password sign-ins/s at the configured argon2id cost, per core', '≥ 35 per core', async () => {
    if (plan.warmupS) await load({ ...signIn, durationS: plan.warmupS }, pid);
    const results: LoadResult[] = [];
    for (let i = 0; i < plan.runs; i++) results.push(await load(signIn, pid));
    const perCore = results.map((r) => r.rps / cores);
    const cpuMs = median(results.map((r) => r.cpuUsPerRequest ?? NaN)) / 1000;
    const pool = median(results.map((r) => r.cpuMsByThread['libuv-worker'] ?? 0));
    const loop = median(results.map((r) => r.cpuMsByThread.main ?? 0));
    return {
      result:
        `${fmt(median(perCore), 1)} per core (${fmt(median(results.map((r) => r.rps)), 1)}/s on ${cores} cores; server ` +
        `${fmt(cpuMs, 1)} ms CPU/sign-in, i.e. ${fmt(1000 / cpuMs, 1)} per second of server CPU: ` +
        `argon2 in libuv's pool ${fmt(pool, 1)} ms, event loop ${fmt(loop, 1)} ms)`,
      met: median(perCore) >= 35,
      runs: `${list(perCore, 1)} per core`,
    };
  });

  await measure('latency', 'p99 latency of authenticated requests while password sign-ins run at full load', '≤ 50 ms', async () => {
    const probe: LoadOptions = { url: `${url}/api/ping`, headers: { cookie }, ...LATENCY_PROBE, durationS: plan.latencyS - 2 };
    const p99: number[] = [];
    const idle: number[] = [];
    const signIns: number[] = [];
    for (let i = 0; i < plan.runs; i++) {
      // The same probe alone first: what this machine gives without the sign-ins.
      idle.push((await load({ ...probe, durationS: plan.baselineS }, pid)).p99);
      const pressure = load({ ...signIn, durationS: plan.latencyS }, pid);
      // Starts once the sign-ins are flowing and stops before they do.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      p99.push((await load(probe, pid)).p99);
      signIns.push((await pressure).rps);
    }
    return {
      result:
        `${fmt(median(p99))} ms (GET /api/ping at ${LATENCY_PROBE.rate} req/s beside ${fmt(median(signIns), 1)} password sign-ins/s; ` +
        `${fmt(median(idle))} ms without them)`,
      met: median(p99) <= 50,
      runs: `${list(p99)} ms (alone ${list(idle)} ms)`,
    };
  });

  if (flags.profile) log(`CPU profile of the server will be written to ${path.relative(root, profileDir)}/`);
}

// ---------------------------------------------------------------- SSO set-up

/** Whether the server has the SSO routes yet: an unknown route answers 404 not_found. */
async function ssoBuilt(url: string): Promise<boolean> {
  const response = await fetch(`${url}/auth/sso/start?tenant=${TENANT_SLUG}`, { redirect: 'manual' });
  const body = await response.text();
  return !(response.status === 404 && body.includes('"not_found"'));
}

/** Starts the IdP and saves it as the tenant's SSO configuration, as the admin would on /integrations/sso. */
async function configureSso(target: Target, cookie: string): Promise<void> {
  const clientId = 'jams-bench';
  const clientSecret = randomBytes(24).toString('base64url');
  idp = fork(path.join(root, 'bench/idp.ts'), [JSON.stringify({ redirectUri: `${target.url}/auth/sso/callback`, email: ADMIN_EMAIL, clientId, clientSecret })], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const { typedIssuer } = await new Promise<{ typedIssuer: string }>((resolve, reject) => {
    idp!.once('message', (message) => resolve(message as { typedIssuer: string }));
    idp!.once('exit', (code) => reject(new Error(`the IdP exited with ${code}`)));
  });
  const response = await fetch(`${target.url}/api/integrations/sso`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', cookie, origin: target.url },
    body: JSON.stringify({ name: 'Bench IdP', issuer: typedIssuer, clientId, clientSecret }),
  });
  if (response.status !== 200) throw new Error(`PUT /api/integrations/sso answered ${response.status}: ${await response.text()}`);
}

// ---------------------------------------------------------------- the web app

await measure('web', '`/login` page: gzip size of the JavaScript it loads', 'report', async () => {
  let weight;
  try {
    weight = await loginWeight();
  } catch (error) {
    return { result: `n/a (${(error as Error).message})`, met: undefined };
  }
  const kb = (bytes: number) => fmt(bytes / 1024, 1);
  return { result: `${kb(weight.gzipBytes)} kB gzip (${kb(weight.rawBytes)} kB raw, ${weight.files} file${weight.files === 1 ? '' : 's'}; ${weight.source})`, met: undefined };
});

// ---------------------------------------------------------------- the table

const engine = await engineName(databaseUrl);
const loadAfter = os.loadavg()[0]!;
const cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
const argv = process.argv.slice(2);
const command = `${databaseUrl ? 'DATABASE_URL=… ' : ''}npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');

const table = [
  `Command: \`${command}\` · ${date}`,
  '',
  `Machine: ${cores} cores (${cpuModel}), ${fmt(os.totalmem() / 2 ** 30, 1)} GiB RAM, Linux ${os.release()}; Node ${process.version}; ${engine}. ` +
    `Load average (1 min) ${fmt(loadBefore, 1)} before, ${fmt(loadAfter, 1)} after.`,
  '',
  '| measure | result (median) | target | |',
  '|---|---|---|---|',
  ...ROWS.filter((id) => rows.has(id)).map((id) => {
    const row = rows.get(id)!;
    const mark = row.met === undefined ? '—' : row.met ? '✓' : '✗';
    return `| ${row.measure} | ${row.result} | ${row.target} | ${mark} |`;
  }),
  '',
  `Runs (${plan.runs} each): ${ROWS.filter((id) => rows.get(id)?.runs)
    .map((id) => `${id} ${rows.get(id)!.runs}`)
    .join('; ')}.`,
].join('\n');

process.stdout.write(`\n${table}\n\n`);

if (flags.profile && existsSync(profileDir)) {
  for (const file of readdirSync(profileDir)) process.stdout.write(`${formatSummary(path.join(profileDir, file))}\n\n`);
}

if (!flags.quick && flags.only === undefined) {
  writeDocs(databaseUrl ? 'postgres' : 'sqlite', table);
  log(`wrote the table to docs/benchmarks.md`);
}

/** Replaces this engine's table in docs/benchmarks.md, between its markers; the prose around it is kept. */
function writeDocs(engineId: string, text: string): void {
  const file = path.join(root, 'docs/benchmarks.md');
  const [open, close] = [`<!-- bench:${engineId} -->`, `<!-- /bench:${engineId} -->`];
  const block = `${open}\n${text}\n${close}`;
  mkdirSync(path.dirname(file), { recursive: true });
  const doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = doc.indexOf(open);
  const end = doc.indexOf(close);
  const next = start >= 0 && end > start ? doc.slice(0, start) + block + doc.slice(end + close.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}

process.exitCode = failures ? 1 : 0;
