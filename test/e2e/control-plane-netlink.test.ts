// vipcast's netlink addon against the real kernel, with `ip addr` as the witness: IPv4 /32 and
// IPv6 /128 without DAD, duplicate refusal, lifetimes the kernel enforces, deletion, and the
// route lookup that picks the VIP's interface.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology, waitUntil, type Host } from '../../lab/netns.js';

let topo: Topology | undefined;
let node: Host | undefined;

async function agent(...args: string[]): Promise<{ code: number; json: unknown }> {
  if (topo === undefined || node === undefined) throw new Error('no namespace');
  const result = await topo.run(node, ['node', 'dist/test/e2e/agents/netlink-agent.js', ...args], true);
  return { code: result.code, json: JSON.parse(result.stdout.trim() || 'null') as unknown };
}

async function ipAddr(flag: '-4' | '-6'): Promise<string> {
  if (topo === undefined || node === undefined) throw new Error('no namespace');
  return (await topo.run(node, ['ip', flag, 'addr', 'show', 'dev', 'eth0'])).stdout;
}

beforeAll(async () => {
  topo = await Topology.create();
  node = await topo.addHost('n');
  const peer = await topo.addHost('peer');
  await topo.link(node, 'eth0', peer, 'eth0');
  // DAD on, as on a real host: the VIP must still be usable at once (IFA_F_NODAD).
  await topo.run(node, ['sysctl', '-qw', 'net.ipv6.conf.eth0.accept_dad=1']);
  await topo.run(node, ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'eth0']);
  await topo.run(node, ['ip', 'addr', 'add', '2001:db8::1/64', 'dev', 'eth0', 'nodad']);
});

afterAll(async () => {
  await topo?.destroy();
});

describe('netlink address management', () => {
  it('adds an IPv4 /32 and an IPv6 /128 that is usable at once (no DAD, not tentative)', async () => {
    expect((await agent('add', 'eth0', '192.0.2.100', '32')).json).toEqual({ ok: true });
    expect((await agent('add', 'eth0', '2001:db8::100', '128')).json).toEqual({ ok: true });
    expect(await ipAddr('-4')).toMatch(/inet 192\.0\.2\.100\/32 scope global eth0/);
    const v6 = await ipAddr('-6');
    expect(v6).toMatch(/inet6 2001:db8::100\/128 scope global nodad/);
    expect(v6).not.toMatch(/2001:db8::100\/128[^\n]*tentative/);
    const listed = (await agent('list', 'eth0')).json as { address: string; prefixLength: number; validSeconds?: number }[];
    expect(listed.filter((a) => a.address.endsWith('::100') || a.address.endsWith('.100')).map((a) => [a.address, a.prefixLength])).toEqual([
      ['192.0.2.100', 32],
      ['2001:db8::100', 128],
    ]);
  });

  it('refuses a duplicate with EEXIST and deletes, reporting whether the address was there', async () => {
    expect(await agent('add', 'eth0', '192.0.2.100', '32')).toEqual({ code: 1, json: { error: 'RTM_NEWADDR: File exists', errno: 17 } });
    expect((await agent('del', 'eth0', '192.0.2.100', '32')).json).toEqual({ removed: true });
    expect((await agent('del', 'eth0', '192.0.2.100', '32')).json).toEqual({ removed: false });
    expect((await agent('del', 'eth0', '2001:db8::100', '128')).json).toEqual({ removed: true });
    expect(await ipAddr('-4')).not.toContain('192.0.2.100');
    expect(await ipAddr('-6')).not.toContain('2001:db8::100');
  });

  it('gives the address a lifetime the kernel enforces by removing it', async () => {
    await agent('add', 'eth0', '192.0.2.101', '32', '1');
    await agent('add', 'eth0', '2001:db8::101', '128', '1');
    expect(await ipAddr('-4')).toMatch(/192\.0\.2\.101\/32 scope global dynamic eth0\s+valid_lft \d+sec/);
    const started = performance.now();
    const gone = await waitUntil(async () => (await ipAddr('-4')) + (await ipAddr('-6')), (text) => !text.includes('.101/') && !text.includes('::101/'), 5000, 50);
    const ms = performance.now() - started;
    expect(gone).not.toContain('192.0.2.101');
    expect(ms).toBeLessThan(3000);
  });

  it('finds the interface the kernel routes an address through', async () => {
    expect((await agent('route', '192.0.2.200')).json).toMatchObject({ name: 'eth0', type: 1 });
    expect((await agent('route', '2001:db8::200')).json).toMatchObject({ name: 'eth0', type: 1 });
    expect((await agent('route', '192.0.2.1')).json).toMatchObject({ name: 'lo', type: 2 });
  });

  it('adds and deletes without spawning anything: an add+delete pair takes well under 5 ms', async () => {
    const { json } = await agent('time-add', 'eth0', '192.0.2.102', '32', '200');
    const micros = (json as { microsPerPair: number }).microsPerPair;
    console.log(`[netlink] add+delete pair: ${micros} µs`);
    expect(micros).toBeLessThan(5000);
  });
});
