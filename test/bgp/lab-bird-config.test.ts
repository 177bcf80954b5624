// The lab's BIRD config read by BIRD itself: `bird -p` parses the config and exits, starting
// no daemon and touching no network. In the bgp tier, whose prerequisites include BIRD; a
// missing BIRD fails these tests, it never skips them.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labBirdConfig } from '../../lab/lab-bird.js';
import type { LabFamily, LabNodeState } from '../../lab/lab-state.js';

const nodes = (count: number): LabNodeState[] =>
  Array.from({ length: count }, (_, k) => ({ name: `node-${k + 1}`, ns: `vlabtest-n${k + 1}`, mac: `02:00:00:00:00:0${k + 1}`, ipv4: `192.0.2.${k + 1}`, ipv6: `2001:db8::${k + 1}` }));

function findBird(): string {
  for (const path of ['/usr/sbin/bird', '/usr/bin/bird', '/usr/local/sbin/bird']) {
    if (spawnSync(path, ['--version']).status === 0) return path;
  }
  throw new Error('bird (BIRD 2) is not installed: run "npm run setup" (it installs bird2)');
}

describe('labBirdConfig read by BIRD itself', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipcast-lab-bird-'));
  let bird = '';
  beforeAll(() => {
    bird = findBird();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['ipv4', 1],
    ['ipv6', 3],
    ['dual', 3],
    ['dual', 9],
    ['dual', 0],
  ] as [LabFamily, number][])('bird -p accepts the %s config for %i nodes', (family, count) => {
    const file = join(dir, `${family}-${count}.conf`);
    writeFileSync(file, labBirdConfig(nodes(count), family));
    const run = spawnSync(bird, ['-p', '-c', file], { encoding: 'utf8', timeout: 20_000 });
    expect(run.error).toBeUndefined();
    expect(`${run.status} ${run.stderr}`).toBe('0 ');
  });

  it('bird -p rejects a broken config (so the check above can fail)', () => {
    const file = join(dir, 'broken.conf');
    writeFileSync(file, labBirdConfig(nodes(1), 'ipv4').replace('passive on;', 'passive maybe;'));
    expect(() => execFileSync(bird, ['-p', '-c', file], { stdio: 'pipe', timeout: 20_000 })).toThrow(/syntax error|passive/i);
  });
});
