// Runs `vipcast announce` inside a namespace without going through src/cli/main.ts:
//   node dist/test/wire/agents/announce-cli.js --interface eth0 --ip VIP ...
import { announceCommand } from '../../../src/cli/announce.js';

process.exitCode = await announceCommand(process.argv.slice(2));
