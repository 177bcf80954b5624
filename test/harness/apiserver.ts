// Moved to src/lab/apiserver.ts, where `vipcast lab` uses it too; the tests keep importing it from here.
export * from '../../src/lab/apiserver.js';
