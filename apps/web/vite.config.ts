import adapter from '@sveltejs/adapter-node';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

/** `vite dev` talks to a server started separately (`npm start`), as production does. */
const apiOrigin = 'http://127.0.0.1:4000';

export default defineConfig({
  // adapter-node: apps/server mounts build/handler.js on its own origin.
  plugins: [sveltekit({ adapter: adapter() })],
  server: {
    proxy: {
      '/trpc': { target: apiOrigin, ws: true },
      '/healthz': apiOrigin,
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
  },
});
