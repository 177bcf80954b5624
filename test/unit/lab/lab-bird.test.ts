import { describe, expect, it } from 'vitest';
import { birdProtocol, labBirdConfig } from '../../../lab/lab-bird.js';
import type { LabFamily, LabNodeState } from '../../../lab/lab-state.js';

const nodes = (count: number): LabNodeState[] =>
  Array.from({ length: count }, (_, k) => ({ name: `node-${k + 1}`, ns: `vlabtest-n${k + 1}`, mac: `02:00:00:00:00:0${k + 1}`, ipv4: `192.0.2.${k + 1}`, ipv6: `2001:db8::${k + 1}` }));

/** The neighbour address of each `protocol bgp` block, in order, with the block's name. */
function bgpBlocks(config: string): { name: string; neighbor: string }[] {
  return [...config.matchAll(/^protocol bgp (\S+) \{\n {2}local as \d+; neighbor (\S+) as \d+;/gm)].map((m) => ({ name: m[1] ?? '', neighbor: m[2] ?? '' }));
}

const families: [LabFamily, (n: LabNodeState) => string[]][] = [
  ['ipv4', (n) => [n.ipv4]],
  ['ipv6', (n) => [n.ipv6]],
  ['dual', (n) => [n.ipv4, n.ipv6]],
];

describe('labBirdConfig', () => {
  it.each(families)('%s: one protocol bgp per node address, passive, AS 64512 to 64513 with BFD', (family, addressesOf) => {
    const lab = nodes(3);
    const config = labBirdConfig(lab, family);
    const blocks = bgpBlocks(config);
    expect(blocks.map((b) => b.neighbor)).toEqual(lab.flatMap(addressesOf));
    expect(config.match(/^protocol bgp /gm)).toHaveLength(blocks.length);
    expect(config.match(/local as 64512; neighbor \S+ as 64513; passive on;/g)).toHaveLength(blocks.length);
    expect(config.match(/bfd on;/g)).toHaveLength(blocks.length);
    expect(config).toContain('router id 192.0.2.254;');
    expect(config).toMatch(/protocol bfd \{[^\n]*min rx interval 100 ms; min tx interval 100 ms; multiplier 3;/);
  });

  it.each(families)('%s: protocol names are unique BIRD identifiers', (family) => {
    const names = bgpBlocks(labBirdConfig(nodes(9), family)).map((b) => b.name);
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
  });

  it('has no protocol bgp at all without nodes', () => {
    expect(bgpBlocks(labBirdConfig([], 'dual'))).toEqual([]);
  });
});

describe('birdProtocol', () => {
  it('turns IPv4 and IPv6 addresses into identifiers', () => {
    expect(birdProtocol('192.0.2.1')).toBe('p_192_0_2_1');
    expect(birdProtocol('2001:db8::1')).toBe('p_2001_db8__1');
  });
});
