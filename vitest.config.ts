import { defineConfig } from 'vitest/config';

// Package tests run per package through turbo (`npm test`); these projects hold the
// cross-app tests. The SvelteKit app's tests run from apps/web (a root project skips them).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          hookTimeout: 120_000,
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          hookTimeout: 180_000,
          testTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
