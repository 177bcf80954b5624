// The speaker's view of its links and routes on a real kernel (ADR 0022): which interface a
// VIP is announced on (policy routing included, and a VIP that is local as kube-proxy makes
// it), whether that link carries frames, and that the kernel's own notifications (links,
// addresses, routes, rules) refresh it at once. The agent (test/wire/agents/links-agent.ts)
// runs in "node"; the test changes the kernel's state with `ip` and waits for the agent's view.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology } from '../../lab/netns.js';
import type { Host, HostProcess } from '../../lab/netns.js';

interface View {
  readonly routed: Record<string, string | null>;
  readonly carries: Record<string, boolean>;
}

let topo: Topology;
let node: Host;
let lan: Host;
let agent: HostProcess;
const figures: string[] = [];

beforeAll(async () => {
  topo = await Topology.create();
  node = await topo.addHost('node');
  lan = await topo.addHost('lan');
  const upstream = await topo.addHost('up');
  await topo.link(node, 'eth0', lan, 'eth0');
  await topo.link(node, 'eth1', upstream, 'eth0');
  await topo.run(node, ['sysctl', '-qw', 'net.ipv6.conf.all.keep_addr_on_down=1']);
  await topo.run(node, ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'eth0']);
  await topo.run(node, ['ip', 'addr', 'add', '2001:db8::1/64', 'dev', 'eth0', 'nodad']);
  await topo.run(node, ['ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'eth1']);
  // The pool's addresses local on lo, as the lab's nodes (and kube-proxy in IPVS mode) have them.
  await topo.run(node, ['ip', 'route', 'add', 'local', '192.0.2.96/28', 'dev', 'lo']);
  await topo.run(node, ['ip', '-6', 'route', 'add', 'local', '2001:db8::100/120', 'dev', 'lo']);
  // 203.0.113.0/24 is reachable only through a rule and table 100: /proc/net/route (the main table) does not show it.
  await topo.run(node, ['ip', 'route', 'add', '203.0.113.0/24', 'dev', 'eth1', 'table', '100']);
  await topo.run(node, ['ip', 'rule', 'add', 'to', '203.0.113.0/24', 'lookup', '100', 'priority', '100']);
  agent = topo.start(node, ['node', 'dist/test/wire/agents/links-agent.js', '192.0.2.100', '2001:db8::100', '203.0.113.10']);
  await agent.waitForLine(/^ready /, 10_000);
});

afterAll(async () => {
  if (figures.length > 0) console.log(`link watch figures:\n  ${figures.join('\n  ')}`);
  if (agent) {
    agent.child.kill('SIGTERM');
    await agent.exited;
  }
  await topo?.destroy();
});

/** The agent's latest view. */
function latest(): View {
  const line = [...agent.lines].reverse().find((l) => /^(ready|change \d+) /.test(l)) ?? '';
  return JSON.parse(line.slice(line.indexOf('{'))) as View;
}

/** Runs a command in a namespace, then waits for the agent's view to satisfy `want`; resolves with the ms it took. */
async function change(host: Host, command: string[], want: (view: View) => boolean, what: string): Promise<number> {
  const seen = agent.lines.length;
  const at = performance.now();
  await topo.run(host, command);
  const deadline = Date.now() + 10_000;
  while (!(agent.lines.length > seen && want(latest()))) {
    if (Date.now() > deadline) throw new Error(`${what}: the agent's view never changed as expected; last: ${JSON.stringify(latest())}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const ms = performance.now() - at;
  figures.push(`${what}: seen ${ms.toFixed(0)} ms after the command was started`);
  return ms;
}

describe('links and routes, as the speaker sees them on a real kernel', () => {
  it('announces a local VIP on the link its prefix is on, and a policy-routed one on the link its rule routes it out of', () => {
    expect(latest()).toEqual({
      routed: { '192.0.2.100': 'eth0', '2001:db8::100': 'eth0', '203.0.113.10': 'eth1' },
      carries: { lo: true, eth0: true, eth1: true },
    });
  });

  it('sees carrier lost (the far end of the cable down) at once, and back', async () => {
    await change(lan, ['ip', 'link', 'set', 'eth0', 'down'], (v) => v.carries['eth0'] === false && v.routed['192.0.2.100'] === 'eth0', 'carrier lost on eth0');
    await change(lan, ['ip', 'link', 'set', 'eth0', 'up'], (v) => v.carries['eth0'] === true, 'carrier back on eth0');
  });

  it('sees the link set administratively down, and still names it for the VIP, so the node declines it', async () => {
    await change(node, ['ip', 'link', 'set', 'eth0', 'down'], (v) => v.carries['eth0'] === false && v.routed['192.0.2.100'] === 'eth0' && v.routed['2001:db8::100'] === 'eth0', 'eth0 set down');
    await change(node, ['ip', 'link', 'set', 'eth0', 'up'], (v) => v.carries['eth0'] === true, 'eth0 set up');
  });

  it('follows a rule and a route changing', async () => {
    await change(node, ['ip', 'rule', 'del', 'priority', '100'], (v) => v.routed['203.0.113.10'] === null, 'rule deleted');
    await change(node, ['ip', 'route', 'add', '203.0.113.0/24', 'dev', 'eth0'], (v) => v.routed['203.0.113.10'] === 'eth0', 'main-table route added');
  });
});
