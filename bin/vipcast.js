#!/usr/bin/env node
// Entry point of the `vipcast` command. The TypeScript sources are compiled to dist/ by
// `npm run build` (the set-up command runs it).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
