// `npm run bench`: runs vipcast's benchmarks and prints their figures with the machine.
// Benchmarks are not tests: they measure, print, and exit non-zero only if they crash.
import { benchAllocator } from './allocator.js';
import { benchBgp } from './bgp.js';
import { benchControlPlane } from './control-plane.js';
import { benchController } from './controller.js';
import { benchFootprint } from './footprint.js';
import { benchLab } from './lab.js';
import { benchLayer2 } from './layer2.js';
import { benchSpeaker } from './speaker.js';
import { benchSpeakerApiCost } from './speaker-api-cost.js';
import { describeMachine } from './machine.js';

const benches: Record<string, () => boolean | Promise<boolean>> = {
  allocator: benchAllocator,
  bgp: benchBgp,
  'control-plane': benchControlPlane,
  controller: benchController,
  footprint: benchFootprint,
  lab: benchLab,
  layer2: benchLayer2,
  speaker: benchSpeaker,
  'speaker-api': benchSpeakerApiCost,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in benches));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
console.log(`vipcast benchmarks on ${describeMachine()}`);
if (!(globalThis as { gc?: unknown }).gc) console.log('(run with node --expose-gc for settled heap figures; npm run bench does)');
const results: string[] = [];
for (const [name, bench] of Object.entries(benches)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  results.push(`${name}: ${(await bench()) ? 'targets met' : 'targets NOT met'}`);
}
console.log(`\n${results.join('\n')}`);
