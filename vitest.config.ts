import { defineConfig } from 'vitest/config';

// Test tiers. `unit` is pure code: no network, no root, no system packages. `wire` runs
// real kernels in network namespaces (root; packages from scripts/setup) and fails, never
// skips, when its prerequisites are missing. Processes it starts run compiled code from
// dist/, so run `npm run build` (or npm test, which does) after changing sources.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'wire',
          include: ['test/wire/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/wire/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
