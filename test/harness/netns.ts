// Moved to src/lab/netns.ts, where `vipcast lab` uses it too; the tests keep importing it from here.
export * from '../../src/lab/netns.js';
