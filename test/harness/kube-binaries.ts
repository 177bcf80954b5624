// Moved to src/lab/kube-binaries.ts, where `vipcast lab` uses it too; the tests keep importing it from here.
export * from '../../src/lab/kube-binaries.js';
