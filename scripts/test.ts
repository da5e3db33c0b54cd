// `npm test`: typecheck, then every test file on the engine TEST_DATABASE_URL picks
// (SQLite when unset). `--browser` runs the Chromium journeys instead.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const browser = process.argv.includes('--browser');
const extra = process.argv.slice(2).filter((arg) => arg !== '--browser');

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const bin = (name: string) => path.join(root, 'node_modules/.bin', name);
if (!browser) run(bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']);
// The journeys drive the production build, so build it fresh.
if (browser) run(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn']);
const files = extra.length > 0 ? extra : browser ? ['test/browser/**/*.e2e.ts'] : ['src/**/*.test.ts', 'test/**/*.test.ts'];
run(process.execPath, [
  '--test',
  `--test-concurrency=${browser ? 1 : 2}`,
  '--test-timeout=120000',
  ...(process.env.CI ? ['--test-reporter=spec'] : []),
  ...files,
]);
