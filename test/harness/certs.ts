// Moved to src/lab/certs.ts, where `vipcast lab` uses it too; the tests keep importing it from here.
export * from '../../src/lab/certs.js';
