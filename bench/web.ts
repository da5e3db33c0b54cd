/**
 * What the `/login` page costs to load: the gzip size of its entry script
 * and every chunk it preloads (what the browser fetches before the page can
 * render). Pages behind lazy imports are not counted: /login does not load them.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { root } from './target.ts';

export interface LoginWeight {
  files: number;
  rawBytes: number;
  gzipBytes: number;
  /** Where the measured build came from. */
  source: string;
}

const WEB_DIST = path.join(root, 'web/dist');
/** Our own build when web/dist is missing or older than web/src: never rebuild the folder the server serves. */
const BENCH_DIST = path.join(root, '.bench/web-dist');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** A build of the web app no older than its sources: web/dist when current, else a fresh one in .bench/. */
async function currentBuild(): Promise<{ dir: string; source: string }> {
  const sources = Math.max(newestMtime(path.join(root, 'web/src')), statSync(path.join(root, 'web/index.html')).mtimeMs);
  for (const [dir, source] of [
    [WEB_DIST, 'web/dist'],
    [BENCH_DIST, 'fresh build'],
  ] as const) {
    const index = path.join(dir, 'index.html');
    if (existsSync(index) && statSync(index).mtimeMs >= sources) return { dir, source };
  }
  const vite = path.join(root, 'node_modules/vite/bin/vite.js');
  const child = spawn(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts', '--outDir', BENCH_DIST, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`vite build failed: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
  return { dir: BENCH_DIST, source: 'fresh build' };
}

/** Sums the entry script and its modulepreload chunks, each gzipped as a server would (zlib's default level, as Vite reports). */
export async function loginWeight(): Promise<LoginWeight> {
  const { dir, source } = await currentBuild();
  const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
  const scripts = new Set<string>();
  for (const tag of html.match(/<script\b[^>]*>/g) ?? []) {
    const src = /\bsrc="([^"]+)"/.exec(tag)?.[1];
    if (src && /\btype="module"/.test(tag)) scripts.add(src);
  }
  for (const tag of html.match(/<link\b[^>]*>/g) ?? []) {
    const href = /\bhref="([^"]+)"/.exec(tag)?.[1];
    if (href && /\brel="modulepreload"/.test(tag)) scripts.add(href);
  }
  if (scripts.size === 0) throw new Error('the built index.html loads no module script');
  let rawBytes = 0;
  let gzipBytes = 0;
  for (const src of scripts) {
    const file = readFileSync(path.join(dir, src.replace(/^\//, '')));
    rawBytes += file.length;
    gzipBytes += gzipSync(file).length;
  }
  return { files: scripts.size, rawBytes, gzipBytes, source };
}
