import { defineConfig } from 'vitest/config';

// Test tiers. `unit` is pure code: no network, no root, no system packages. `wire` runs
// real kernels in network namespaces (root; packages from scripts/setup); processes it
// starts run compiled code from dist/, so run `npm run build` (npm test does) after
// changing sources. `k8s` runs a real kube-apiserver and etcd (scripts/build-kube) on
// loopback. `bgp` runs our BGP speaker against BIRD, FRR and GoBGP in namespaces. `e2e`
// combines a real API server with namespaces (controller, speakers, control-plane VIP, lab).
// `image` builds the image from the Dockerfile (scripts/build-image: Docker, local base
// stand-ins) and runs its programs with the manifests' securityContext. `cluster` makes a real
// multi-node cluster of kubeadm node containers (scripts/cluster) with vipcast installed from
// manifests/vipcast.yaml and runs traffic through it; `cluster-ha` one of three control planes
// bootstrapped through vipcast's control-plane VIP.
// All fail, never skip, when their prerequisites are missing.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // A bound for hangs only: the property tests take 1-2 s alone, and CI once took
          // 5.1 s for one of them on Node 24 with the machine's 2 cores busy.
          testTimeout: 30_000,
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
      {
        test: {
          name: 'k8s',
          include: ['test/k8s/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'bgp',
          include: ['test/bgp/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/wire/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          maxWorkers: 1,
        },
      },
      {
        test: {
          name: 'image',
          include: ['test/image/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/image/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          maxWorkers: 1,
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/cluster/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'cluster-ha',
          include: ['test/cluster-ha/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/cluster-ha/global-setup.ts'],
          env: { VIPCAST_CLUSTER: 'vcha' },
          testTimeout: 300_000,
          hookTimeout: 300_000,
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
    ],
  },
});
