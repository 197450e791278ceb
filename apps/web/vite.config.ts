import adapter from '@sveltejs/adapter-node';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

/** `vite dev` talks to a server started separately (`npm start`), as production does. */
const apiOrigin = 'http://127.0.0.1:4000';

export default defineConfig({
  plugins: [
    sveltekit({
      // adapter-node: apps/server mounts build/handler.js on its own origin.
      adapter: adapter(),
      // Wall displays run for days untouched: notice a new release within minutes and reload.
      version: { pollInterval: 5 * 60_000 },
    }),
  ],
  server: {
    proxy: {
      '/trpc': { target: apiOrigin, ws: true },
      '/board-stream': { target: apiOrigin, ws: true },
      '/healthz': apiOrigin,
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
  },
});
