// Test helper: every captured router fixture with its source router.
import { Buffer } from 'node:buffer';
import { fixtures as bird2 } from '../../fixtures/bgp/bird2.js';
import { fixtures as frr } from '../../fixtures/bgp/frr.js';
import { fixtures as gobgp } from '../../fixtures/bgp/gobgp.js';

/** Captured messages grouped by router, as buffers. */
export const routers: ReadonlyArray<readonly [string, ReadonlyArray<{ name: string; bytes: Buffer }>]> = [
  ['BIRD 2.0.12', bird2.map((f) => ({ name: f.name, bytes: Buffer.from(f.hex, 'hex') }))],
  ['FRR 8.4.4', frr.map((f) => ({ name: f.name, bytes: Buffer.from(f.hex, 'hex') }))],
  ['GoBGP 3.10.0', gobgp.map((f) => ({ name: f.name, bytes: Buffer.from(f.hex, 'hex') }))],
];

/** All fixtures flattened, named `router: fixture`. */
export const allFixtures = routers.flatMap(([router, list]) => list.map((f) => ({ name: `${router}: ${f.name}`, bytes: f.bytes })));
