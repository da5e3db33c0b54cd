/**
 * A browser's part in SSO sign-ins, as fast as it can, in its own process:
 * GET /auth/sso/start → the IdP's authorization endpoint (the bench IdP
 * signs the user in without a page) → GET /auth/sso/callback → 302 to
 * /sso-complete with the session cookie. Reads the server's CPU time at the
 * edges of the measured window. Prints one JSON line (see SsoLoadResult).
 */
import type { SsoLoadOptions } from './load.ts';
import { cpuMs, cpuMsByThread } from './proc.ts';

const options = JSON.parse(process.argv[2]!) as SsoLoadOptions;

/** One sign-in; throws with what went wrong. */
async function signIn(): Promise<void> {
  const start = await fetch(`${options.serverUrl}/auth/sso/start?tenant=${encodeURIComponent(options.tenant)}`, { redirect: 'manual' });
  await start.arrayBuffer();
  const authorize = start.headers.get('location');
  if (start.status < 300 || start.status > 399 || !authorize) throw new Error(`start answered ${start.status}`);
  // The browser binding: the cookies start set go back with the callback.
  const cookies = start.headers
    .getSetCookie()
    .map((line) => line.split(';', 1)[0])
    .join('; ');
  const idp = await fetch(authorize, { redirect: 'manual' });
  await idp.arrayBuffer();
  const callback = idp.headers.get('location');
  if (!callback) throw new Error(`the IdP answered ${idp.status} without a redirect`);
  const done = await fetch(new URL(callback, authorize), { redirect: 'manual', headers: { cookie: cookies } });
  await done.arrayBuffer();
  const landing = done.headers.get('location') ?? '';
  if (!landing.startsWith('/sso-complete') && !landing.startsWith(`${options.serverUrl}/sso-complete`)) {
    throw new Error(`the callback answered ${done.status} → ${landing}`);
  }
  if (!done.headers.getSetCookie().some((line) => line.startsWith('jams_session='))) throw new Error('the callback set no session cookie');
}

async function phase(seconds: number): Promise<{ ok: number; failed: number; firstError: string | undefined }> {
  const deadline = performance.now() + seconds * 1000;
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline) {
        try {
          await signIn();
          ok++;
        } catch (error) {
          failed++;
          firstError ??= (error as Error).message;
          // A broken flow fails fast; do not spin on it.
          if (failed > 20 && ok === 0) return;
        }
      }
    }),
  );
  return { ok, failed, firstError };
}

if (options.warmupS > 0) await phase(options.warmupS);
const cpuBefore = cpuMs(options.serverPid);
const threadsBefore = cpuMsByThread(options.serverPid);
const started = performance.now();
const { ok, failed, firstError } = await phase(options.durationS);
const seconds = (performance.now() - started) / 1000;
const perSignIn = (ms: number) => ms / Math.max(ok, 1);
const serverCpuMs = perSignIn(cpuMs(options.serverPid) - cpuBefore);
const byThread = Object.fromEntries([...cpuMsByThread(options.serverPid)].map(([kind, ms]) => [kind, perSignIn(ms - (threadsBefore.get(kind) ?? 0))]));
process.stdout.write(`${JSON.stringify({ ok, failed, seconds, rate: ok / seconds, serverCpuMs, byThread, firstError })}\n`);
