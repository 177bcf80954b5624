// Interop matrix against frr (see interop-suite.ts); one file per router so the three run in parallel.
import { defineInteropSuite } from './interop-suite.js';

defineInteropSuite('frr');
