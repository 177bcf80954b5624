// Test agent (compiled to dist/): `vipcast control-plane` without going through main.ts.
import { controlPlaneCommand } from '../../src/cli/control-plane.js';

process.exit(await controlPlaneCommand(process.argv.slice(2)));
