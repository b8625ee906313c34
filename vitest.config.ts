import { defineConfig } from 'vitest/config';

// Unit tests live beside the code (core/**, electron/**, labs/**, cli/**);
// live suites (test-bed, SSH, SQLite child processes) under test/live; the
// browser e2e suite runs separately through scripts/e2e.mjs.
export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'electron/**/*.test.ts', 'labs/**/*.test.ts', 'cli/**/*.test.ts', 'test/unit/**/*.test.ts', 'test/live/**/*.test.ts'],
    exclude: ['node_modules/**', 'out/**'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
