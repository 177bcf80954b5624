// Single-hop BFD accepts only packets that arrive with TTL / hop limit 255 (RFC 5881 section
// 5): a peer whose Control packets come with 254, as they would after one router, never
// brings vipcast's session Up, and the discards are reported; the same peer at 255 does.
// Our session runs in "node", a scripted peer (test/wire/agents/bfd-agent.ts) in "router",
// on one veth link, so the kernel delivers the TTL the peer chose.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Topology, pollUntil } from '../../lab/netns.js';
import type { Host, HostProcess } from '../../lab/netns.js';

const agent = ['node', 'dist/test/wire/agents/bfd-agent.js'];

let topo: Topology;
let node: Host;
let router: Host;
/** The agents of the running test, stopped after it whatever its outcome. */
let running: HostProcess[] = [];

beforeAll(async () => {
  topo = await Topology.create();
  node = await topo.addHost('node');
  router = await topo.addHost('router');
  await topo.link(node, 'eth0', router, 'eth0');
  await topo.run(node, ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'eth0']);
  await topo.run(node, ['ip', 'addr', 'add', '2001:db8::1/64', 'dev', 'eth0']);
  await topo.run(router, ['ip', 'addr', 'add', '192.0.2.2/24', 'dev', 'eth0']);
  await topo.run(router, ['ip', 'addr', 'add', '2001:db8::2/64', 'dev', 'eth0']);
});

afterAll(async () => {
  await topo?.destroy();
});

afterEach(async () => {
  for (const p of running.reverse()) {
    p.child.kill('SIGTERM');
    await p.exited;
  }
  running = [];
});

async function start(ours: string, theirs: string, ttl: number): Promise<{ session: HostProcess; peer: HostProcess }> {
  const session = topo.start(node, [...agent, 'session', theirs, ours]);
  running.push(session);
  await session.waitForLine(/^ready$/, 10_000);
  const peer = topo.start(router, [...agent, 'peer', ours, theirs, String(ttl)]);
  running.push(peer);
  await peer.waitForLine(/^ready$/, 10_000);
  return { session, peer };
}

describe.each([
  ['IPv4', 'TTL', '192.0.2.1', '192.0.2.2'],
  ['IPv6', 'hop limit', '2001:db8::1', '2001:db8::2'],
])('single-hop BFD over %s', (_family, field, ours, theirs) => {
  it(`a peer whose packets arrive with ${field} 254 never brings the session Up, and the discards are reported`, async () => {
    const { session, peer } = await start(ours, theirs, 254);
    // Our packets reach the peer (it leaves Down), so the link works both ways.
    await peer.waitForLine(/^state [23]$/, 5000);
    // 4 s is ~20 of the peer's packets, Down and then Init: enough for a three-way handshake.
    const cameUp = await pollUntil(() => session.lines, (lines) => lines.includes('up'), 4000, 100);
    expect(cameUp.met, `session lines: ${cameUp.value.join(' | ')}`).toBe(false);
    expect(session.lines).toContain('discarded 1 TTL 254, not 255 (RFC 5881 section 5)');
    session.child.kill('SIGHUP');
    const counted = Number((await session.waitForLine(/^ttl-discards /, 2000)).split(' ')[1]);
    expect(counted).toBeGreaterThanOrEqual(10);
  });

  it(`the same peer at ${field} 255 brings the session Up`, async () => {
    const { session, peer } = await start(ours, theirs, 255);
    await session.waitForLine(/^up$/, 5000);
    await peer.waitForLine(/^state 3$/, 5000);
    expect(session.lines.filter((l) => l.startsWith('discarded'))).toEqual([]);
  });
});
