// Moved to src/lab/api-bridge.ts; the tests and benches keep importing it from here.
export * from '../../src/lab/api-bridge.js';
