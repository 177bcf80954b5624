import { defineConfig } from 'vitest/config';

// Test tiers. `unit` is pure code: no network, no root, no system packages. Later tiers
// (wire, bgp, k8s, e2e) need real kernels, routers or an API server and are added to
// `projects` with their own include globs.
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
    ],
  },
});
