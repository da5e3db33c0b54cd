/**
 * Load generators, each in a process of its own so that the server under
 * test and the client never share an event loop: autocannon's CLI for plain
 * HTTP load, and bench/sso-driver.ts for whole SSO sign-ins.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { cpuMs, cpuMsByThread } from './proc.ts';
import { root } from './target.ts';

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: unknown;
  connections: number;
  pipelining?: number;
  durationS: number;
  /** Requests per second over all connections; unset means as fast as the server answers. */
  rate?: number;
}

export interface LoadResult {
  /** 2xx answers. */
  ok: number;
  /** Everything else: non-2xx answers, socket errors and timeouts. */
  failed: number;
  seconds: number;
  /** 2xx answers per second. */
  rps: number;
  /** Latency percentiles in ms (autocannon corrects them for coordinated omission under a fixed rate). */
  p50: number;
  p99: number;
  /** The server's CPU time per 2xx answer, in µs, when its pid was given. */
  cpuUsPerRequest: number | undefined;
  /** The same in ms, per thread kind: `main` (the event loop), `libuv-worker` (argon2, WebCrypto), `V8Worker` (GC, JIT). */
  cpuMsByThread: Record<string, number>;
}

const AUTOCANNON = path.join(root, 'node_modules/autocannon/autocannon.js');

interface AutocannonJson {
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  latency: { p50: number; p99: number };
}

/** Runs autocannon's CLI in a child process and reads its JSON summary. */
export async function autocannon(options: LoadOptions, serverPid?: number): Promise<LoadResult> {
  const args = [AUTOCANNON, '--json', '--no-progress', '-c', String(options.connections), '-p', String(options.pipelining ?? 1)];
  args.push('-d', String(options.durationS), '-m', options.method ?? 'GET');
  if (options.rate !== undefined) args.push('-R', String(options.rate));
  const headers = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}=${value}`);
  if (options.body !== undefined) args.push('-b', JSON.stringify(options.body));
  args.push(options.url);

  const before = serverPid === undefined ? 0 : cpuMs(serverPid);
  const threadsBefore = serverPid === undefined ? new Map<string, number>() : cpuMsByThread(serverPid);
  const { stdout, stderr, code } = await runNode(args);
  const after = serverPid === undefined ? 0 : cpuMs(serverPid);
  const threadsAfter = serverPid === undefined ? new Map<string, number>() : cpuMsByThread(serverPid);
  const line = stdout.trim().split('\n').at(-1);
  if (code !== 0 || !line) throw new Error(`autocannon exited with ${code}: ${stderr.slice(-2000)}`);
  const json = JSON.parse(line) as AutocannonJson;
  const ok = json['2xx'];
  return {
    ok,
    failed: json.non2xx + json.errors + json.timeouts,
    seconds: json.duration,
    rps: ok / json.duration,
    p50: json.latency.p50,
    p99: json.latency.p99,
    cpuUsPerRequest: serverPid === undefined || ok === 0 ? undefined : ((after - before) * 1000) / ok,
    cpuMsByThread: Object.fromEntries([...threadsAfter].map(([kind, ms]) => [kind, (ms - (threadsBefore.get(kind) ?? 0)) / Math.max(ok, 1)])),
  };
}

export interface SsoLoadResult {
  ok: number;
  failed: number;
  seconds: number;
  /** Sign-ins per second. */
  rate: number;
  /** The server's CPU time per sign-in, in ms, measured over the same window. */
  serverCpuMs: number;
  /** The same, per thread kind (main = the event loop). */
  byThread: Record<string, number>;
  firstError: string | undefined;
}

/** Drives whole SSO sign-ins (start → IdP → callback) from bench/sso-driver.ts. */
/** What bench/sso-driver.ts is told to do. */
export interface SsoLoadOptions {
  serverUrl: string;
  serverPid: number;
  tenant: string;
  concurrency: number;
  warmupS: number;
  durationS: number;
}

export async function ssoLoad(options: SsoLoadOptions): Promise<SsoLoadResult> {
  const { stdout, stderr, code } = await runNode([path.join(root, 'bench/sso-driver.ts'), JSON.stringify(options)]);
  const line = stdout.trim().split('\n').at(-1);
  if (code !== 0 || !line) throw new Error(`the SSO driver exited with ${code}: ${stderr.slice(-2000)}`);
  return JSON.parse(line) as SsoLoadResult;
}

function runNode(args: string[]): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ stdout, stderr, code })));
}
