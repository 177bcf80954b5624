// Test agent: `vipcast lab ...` until src/cli/main.ts registers the command.
//   node lab-cli.js up|demo|down [options]
import { labCommand } from '../../../src/cli/lab.js';

process.exitCode = await labCommand(process.argv.slice(2));
