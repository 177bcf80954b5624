// Test agent run inside a namespace (compiled to dist/): `vipcast bgp announce` without main.ts.
import { bgpAnnounceCommand } from '../../src/cli/bgp-announce.js';

process.exit(await bgpAnnounceCommand(process.argv.slice(2)));
