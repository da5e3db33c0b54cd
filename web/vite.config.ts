import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const webRoot = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

// The dev server forwards everything that is not the SPA to the Fastify server,
// so the browser sees one origin, as in production (cookies and Origin checks
// behave the same).
const backend = 'http://127.0.0.1:3000';
const proxied = ['/api', '/auth', '/.well-known', '/healthz'];

export default defineConfig({
  root: webRoot,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Every browser we support has native modulepreload; skip the polyfill to keep /login small.
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: Object.fromEntries(proxied.map((path) => [path, { target: backend, changeOrigin: false }])),
    // The web app imports the shared error catalogue from ../src/errors.
    fs: { allow: [repoRoot] },
  },
});
