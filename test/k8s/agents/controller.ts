// Test agent (compiled to dist/): `vipcast controller` without going through main.ts.
import { controllerCommand } from '../../../src/cli/controller.js';

process.exit(await controllerCommand(process.argv.slice(2)));
