/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and answers where the main
 * thread's time went: self time per function and per package/file, busiest
 * first. `node bench/profile.ts <file.cpuprofile>` prints it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { root } from './target.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Hotspot {
  name: string;
  ms: number;
  share: number;
}

/** Where a frame's code lives: a package under node_modules, a file of ours, or V8/Node itself. */
function ownerOf(url: string): string {
  if (!url) return '(V8 / native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  return path.relative(root, url.replace(/^file:\/\//, ''));
}

/**
 * Self time of the busiest functions and owners in a profile, idle
 * excluded; and the inclusive time of our own functions (src/), which says
 * which step of a request the time belongs to.
 */
export function summarize(file: string, top = 15): { functions: Hotspot[]; owners: Hotspot[]; ours: Hotspot[]; busyMs: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const label = ({ functionName, url, lineNumber }: ProfileNode['callFrame']) =>
    `${functionName || '(anonymous)'} ${url ? `${ownerOf(url)}:${lineNumber + 1}` : ''}`.trim();
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    // Counted once per sample however deep the recursion.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (frame.url.includes('/src/') && !frame.url.includes('/node_modules/')) seen.add(label(frame));
    }
    for (const name of seen) inclusive.set(name, (inclusive.get(name) ?? 0) + us);
  }
  const functions = new Map<string, number>();
  const owners = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') continue;
    busyUs += us;
    const owner = ownerOf(frame.url);
    const name = label(frame);
    functions.set(name, (functions.get(name) ?? 0) + us);
    owners.set(owner, (owners.get(owner) ?? 0) + us);
  }
  const rank = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: busyUs ? us / busyUs : 0 }));
  return { functions: rank(functions), owners: rank(owners), ours: rank(inclusive), busyMs: busyUs / 1000 };
}

/** The summary as text, for the terminal. */
export function formatSummary(file: string): string {
  const { functions, owners, ours, busyMs } = summarize(file);
  const line = (h: Hotspot) => `  ${(h.share * 100).toFixed(1).padStart(5)}%  ${h.ms.toFixed(0).padStart(7)} ms  ${h.name}`;
  return [
    `${path.relative(root, file)}: ${busyMs.toFixed(0)} ms on the main thread (idle excluded)`,
    'by package or file:',
    ...owners.map(line),
    'by function (self time):',
    ...functions.map(line),
    'our functions (src/), inclusive time:',
    ...ours.map(line),
  ].join('\n');
}

if (import.meta.filename === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node bench/profile.ts <file.cpuprofile>\n');
    process.exit(2);
  }
  process.stdout.write(`${formatSummary(file)}\n`);
}
