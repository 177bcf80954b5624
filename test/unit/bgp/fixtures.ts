// Test helper: every captured router fixture with its source router.
import { Buffer } from 'node:buffer';
import { fixtures as bird2 } from '../../fixtures/bgp/bird2.js';
import type { BgpFixture, NonCanonicalLayout } from '../../fixtures/bgp/fixture.js';
import { fixtures as frr } from '../../fixtures/bgp/frr.js';
import { fixtures as gobgp } from '../../fixtures/bgp/gobgp.js';

/** One captured message as bytes, with how its layout differs from vipcast's, if it does. */
export interface CapturedMessage {
  /** Fixture name, e.g. `update-ipv4-over-ipv4`. */
  readonly name: string;
  /** The whole message. */
  readonly bytes: Buffer;
  /** Layout choices of the sender that vipcast's encoder does not make; empty when re-encoding gives the same bytes. */
  readonly nonCanonical: readonly NonCanonicalLayout[];
}

const load = (list: readonly BgpFixture[]): CapturedMessage[] => list.map((f) => ({ name: f.name, bytes: Buffer.from(f.hex, 'hex'), nonCanonical: f.nonCanonical ?? [] }));

/** Captured messages grouped by router, as buffers. */
export const routers: ReadonlyArray<readonly [string, readonly CapturedMessage[]]> = [
  ['BIRD 2.0.12', load(bird2)],
  ['FRR 8.4.4', load(frr)],
  ['GoBGP 3.10.0', load(gobgp)],
];

/** All fixtures flattened, named `router: fixture`. */
export const allFixtures: readonly CapturedMessage[] = routers.flatMap(([router, list]) => list.map((f) => ({ ...f, name: `${router}: ${f.name}` })));
