// Test agent (compiled to dist/lab/): `vipcast controller` without going through main.ts, so a
// test measures the controller's own module graph.
import { controllerCommand } from '../../src/cli/controller.js';

process.exit(await controllerCommand(process.argv.slice(2)));
