// Moved to src/lab/kube-client.ts, where `vipcast lab` uses it too; the tests keep importing it from here.
export * from '../../src/lab/kube-client.js';
