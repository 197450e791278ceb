import { defineConfig } from 'vitest/config';

export default defineConfig({
  // CLI runs start the TypeScript entry and migrate the database: each takes seconds.
  test: { hookTimeout: 120_000, testTimeout: 120_000 },
});
