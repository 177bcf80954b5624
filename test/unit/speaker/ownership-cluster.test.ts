// The real ownership code of ADR 0017 (Layer2Ownership over PeerMesh), several speakers in
// one process over an in-memory API and network (ownership-cluster.ts), with real timers.
import { afterEach, describe, expect, it } from 'vitest';
import { OwnershipCluster, sample } from './ownership-cluster.js';

const vip = '192.0.2.100';
let cluster: OwnershipCluster | undefined;

afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

async function settle(c: OwnershipCluster, timeoutMs = 5000): Promise<string> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    const answering = c.answerers(vip);
    const ready = c.nodes.every((n) => n.stopped || (n.ownership.status().mode === 'peer-quorum' && n.ownership.status().holding));
    if (answering.length === 1 && ready) return answering[0]!;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no single answerer after ${timeoutMs} ms: ${JSON.stringify(c.nodes.map((n) => [n.name, n.ownership.status(), n.log.slice(-6)]))}`);
}

describe('layer-2 ownership with a peer quorum (three speakers)', () => {
  it('one speaker answers, and keeps answering for 3 s with nothing going wrong', async () => {
    cluster = new OwnershipCluster(['node-1', 'node-2', 'node-3']);
    cluster.start([vip]);
    const owner = await settle(cluster);
    const samples = await sample(cluster, vip, 3000);
    expect(samples.filter((s) => s.answerers.length !== 1 || s.answerers[0] !== owner)).toEqual([]);
    expect(cluster.nodes.every((n) => n.ownership.status().mode === 'peer-quorum')).toBe(true);
  }, 20_000);

  it('the API unreachable for everyone for 5 s: the owner keeps answering, nothing moves', async () => {
    cluster = new OwnershipCluster(['node-1', 'node-2', 'node-3']);
    cluster.start([vip]);
    const owner = await settle(cluster);
    await new Promise((resolve) => setTimeout(resolve, 500));
    cluster.apiDownForAll = true;
    const during = await sample(cluster, vip, 5000);
    cluster.apiDownForAll = false;
    const after = await sample(cluster, vip, 2000);
    const wrong = [...during, ...after].filter((s) => s.answerers.length !== 1 || s.answerers[0] !== owner);
    expect(wrong.slice(0, 3), JSON.stringify(cluster.nodes.map((n) => [n.name, n.log.slice(-8)]))).toEqual([]);
  }, 20_000);

  it('a hard loss of the owner moves the VIP within 0.5 s, never with two answering', async () => {
    cluster = new OwnershipCluster(['node-1', 'node-2', 'node-3']);
    cluster.start([vip]);
    const owner = await settle(cluster);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const lostAt = performance.now();
    cluster.kill(owner);
    const samples = await sample(cluster, vip, 1500);
    const next = samples.find((s) => s.answerers.length === 1 && s.answerers[0] !== owner);
    expect(next).toBeDefined();
    expect((next?.at ?? Infinity) - lostAt).toBeLessThan(500);
    expect(samples.filter((s) => s.answerers.length > 1)).toEqual([]);
  }, 20_000);

  it('the owner alone loses the API: it steps down and another node takes over, never two answering', async () => {
    cluster = new OwnershipCluster(['node-1', 'node-2', 'node-3']);
    cluster.start([vip]);
    const owner = await settle(cluster);
    await new Promise((resolve) => setTimeout(resolve, 500));
    cluster.nodes.find((n) => n.name === owner)!.apiDown = true;
    const samples = await sample(cluster, vip, 4000);
    expect(samples.filter((s) => s.answerers.length > 1)).toEqual([]);
    expect(samples.at(-1)?.answerers).toHaveLength(1);
    expect(samples.at(-1)?.answerers[0]).not.toBe(owner);
  }, 20_000);

  it('the owner cut off from its peers (not from the API) loses the VIP to them, never two answering', async () => {
    cluster = new OwnershipCluster(['node-1', 'node-2', 'node-3']);
    cluster.start([vip]);
    const owner = await settle(cluster);
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const other of cluster.nodes) {
      if (other.name === owner) continue;
      cluster.cut.add(`${owner}>${other.name}`);
      cluster.cut.add(`${other.name}>${owner}`);
    }
    const samples = await sample(cluster, vip, 2000);
    expect(samples.filter((s) => s.answerers.length > 1)).toEqual([]);
    expect(samples.at(-1)?.answerers).toHaveLength(1);
    expect(samples.at(-1)?.answerers[0]).not.toBe(owner);
  }, 20_000);
});
