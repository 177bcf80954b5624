import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { birdProtocol, labBirdConfig } from '../../../src/lab/lab-bird.js';
import type { LabFamily, LabNodeState } from '../../../src/lab/lab-state.js';

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
    expect(birdProtocol('192.0.2.1')).toBe('node_192_0_2_1');
    expect(birdProtocol('2001:db8::1')).toBe('node_2001_db8__1');
  });
});

// BIRD's own parser is the judge of the syntax: `bird -p` reads the config and exits, starting
// no daemon and touching no network.
function findBird(): string | undefined {
  for (const path of ['/usr/sbin/bird', '/usr/bin/bird', '/usr/local/sbin/bird']) {
    if (spawnSync(path, ['--version']).status === 0) return path;
  }
  return undefined;
}
const bird = findBird();
if (bird === undefined && process.env['CI'] === 'true') throw new Error('bird (BIRD 2) is not installed, and CI must check the lab\'s BIRD config: run "npm run setup" (it installs bird2)');

describe('labBirdConfig read by BIRD itself', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipcast-lab-bird-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(bird === undefined).each([
    ['ipv4', 1],
    ['ipv6', 3],
    ['dual', 3],
    ['dual', 9],
    ['dual', 0],
  ] as const)('bird -p accepts the %s config for %i nodes', (family, count) => {
    const file = join(dir, `${family}-${count}.conf`);
    writeFileSync(file, labBirdConfig(nodes(count), family));
    const run = spawnSync(bird ?? 'bird', ['-p', '-c', file], { encoding: 'utf8', timeout: 20_000 });
    expect(run.error).toBeUndefined();
    expect(`${run.status} ${run.stderr}`).toBe('0 ');
  });

  it.skipIf(bird === undefined)('bird -p rejects a broken config (so the check above can fail)', () => {
    const file = join(dir, 'broken.conf');
    writeFileSync(file, labBirdConfig(nodes(1), 'ipv4').replace('passive on;', 'passive maybe;'));
    expect(() => execFileSync(bird ?? 'bird', ['-p', '-c', file], { stdio: 'pipe', timeout: 20_000 })).toThrow(/syntax error|passive/i);
  });
});
