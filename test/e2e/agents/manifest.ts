// Test agent (compiled to dist/): `vipcast manifest` without going through main.ts.
import { manifestCommand } from '../../../src/cli/manifest.js';

process.exit(await manifestCommand(process.argv.slice(2)));
