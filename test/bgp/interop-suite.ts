// The interop matrix for one router implementation: `vipcast bgp announce` (compiled, in a
// speaker namespace) against a real BIRD, FRR or GoBGP (in a router namespace), checked only
// through the router's own CLI and a tshark decode of the capture. Each router has its own
// test file so the three run in parallel; within a file the namespaces and router are shared.
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Topology, runHostCommand, waitUntil, type Capture, type Host, type HostProcess } from '../../lab/netns.js';
import { startRouter, type BgpRouter, type RouterKind, type RouterRoute } from '../../lab/routers.js';
import { labProgram } from '../../lab/paths.js';

/** Addresses of the two-namespace lab (speaker "s", router "r", one veth between them). */
export const lab = {
  router4: '10.0.1.1',
  router6: 'fd00:1::1',
  speaker4: '10.0.1.2',
  speaker6: 'fd00:1::2',
  /** Speaker address the router expects TCP MD5 from. */
  md5: '10.0.1.3',
  /** Speaker address the router runs BFD with. */
  bfd: '10.0.1.4',
  routerAsn: 65001,
  /** A 4-octet ASN, so AS4 encoding is exercised on every session (RFC 6793). */
  speakerAsn: 4200000010,
  holdTime: 6,
  password: 'vipcast-md5-secret',
} as const;

const agent = labProgram('bgp-announce');

/** The lab shared by a file's tests. */
export interface InteropLab {
  readonly topo: Topology;
  readonly speaker: Host;
  readonly router: BgpRouter;
  readonly capture: Capture;
  /** Starts `vipcast bgp announce` in the speaker namespace against the router. */
  announce(args: readonly string[]): HostProcess;
  /** Kills every speaker process still running, so a failed test cannot disturb the next. */
  killAll(): Promise<void>;
}

/** Builds namespaces, starts the router of `kind` with the lab's neighbours and a capture on its link. */
export async function createInteropLab(kind: RouterKind): Promise<InteropLab> {
  if (!existsSync(agent)) throw new Error(`${agent} is missing: run "npx tsc -p ." (npm run build) first`);
  const topo = await Topology.create();
  try {
    const speaker = await topo.addHost('s');
    const routerHost = await topo.addHost('r');
    await topo.link(speaker, 'eth0', routerHost, 'eth0');
    for (const a of [`${lab.speaker4}/24`, `${lab.md5}/24`, `${lab.bfd}/24`, `${lab.speaker6}/64`]) await topo.run(speaker, ['ip', 'addr', 'add', a, 'dev', 'eth0']);
    for (const a of [`${lab.router4}/24`, `${lab.router6}/64`]) await topo.run(routerHost, ['ip', 'addr', 'add', a, 'dev', 'eth0']);
    const capture = await topo.capture(routerHost, 'eth0');
    const peers = [
      { address: lab.speaker4, asn: lab.speakerAsn },
      { address: lab.speaker6, asn: lab.speakerAsn },
      { address: lab.md5, asn: lab.speakerAsn, password: lab.password },
      ...(kind === 'gobgp' ? [] : [{ address: lab.bfd, asn: lab.speakerAsn, bfd: true }]),
    ];
    const router = await startRouter(topo, {
      kind,
      host: routerHost,
      routerId: lab.router4,
      asn: lab.routerAsn,
      peers,
      holdTime: lab.holdTime,
      bfd: { intervalMs: 100, multiplier: 3 },
    });
    const started: HostProcess[] = [];
    return {
      topo,
      speaker,
      router,
      capture,
      announce: (args) => {
        const p = topo.start(speaker, ['node', agent, ...args]);
        started.push(p);
        return p;
      },
      killAll: async () => {
        for (const p of started.splice(0)) {
          if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
          p.child.kill('SIGKILL');
          p.child.kill('SIGCONT');
          await p.exited;
        }
      },
    };
  } catch (error) {
    await topo.destroy();
    throw error;
  }
}

/** Arguments of a session from `source` to the router's address of the same family. */
export function sessionArgs(source: string, extra: readonly string[] = []): string[] {
  const v6 = source.includes(':');
  return [
    '--peer', v6 ? lab.router6 : lab.router4,
    '--source', source,
    '--router-id', v6 ? lab.speaker4 : source,
    '--peer-asn', String(lab.routerAsn),
    '--my-asn', String(lab.speakerAsn),
    '--hold-time', String(lab.holdTime),
    ...extra,
  ];
}

/** Routes whose prefix is in `prefixes`, polled until `ok` or the timeout. */
export async function routesUntil(router: BgpRouter, ok: (routes: Map<string, RouterRoute>) => boolean, timeoutMs: number): Promise<Map<string, RouterRoute>> {
  return waitUntil(() => router.routes(), ok, timeoutMs, 100);
}

const has = (...prefixes: string[]) => (routes: Map<string, RouterRoute>): boolean => prefixes.every((p) => routes.has(p));
const lacks = (...prefixes: string[]) => (routes: Map<string, RouterRoute>): boolean => prefixes.every((p) => !routes.has(p));

async function signalled(p: HostProcess, signal: NodeJS.Signals): Promise<void> {
  p.child.kill(signal);
  await p.exited;
}

/** Defines the whole interop matrix for one router. */
export function defineInteropSuite(kind: RouterKind): void {
  describe(`vipcast bgp announce against ${kind}`, () => {
    let l: InteropLab;
    beforeAll(async () => {
      l = await createInteropLab(kind);
    });
    afterEach(async () => {
      await l?.killAll();
    });
    afterAll(async () => {
      await l?.topo.destroy();
    });

    const community = ['--community', '65010:100', '--community', '65010:200', '--large-community', `${lab.speakerAsn}:1:2`];

    it('reaches Established over IPv4 and the router holds our /32 and /128 with communities and large communities', async () => {
      const p = l.announce(sessionArgs(lab.speaker4, ['--prefix', '198.51.100.1', '--prefix', '2001:db8:100::1', '--next-hop', lab.speaker6, ...community]));
      await p.waitForLine(/^established$/, 20_000);
      expect(await waitUntil(() => l.router.established(lab.speaker4), (v) => v, 10_000)).toBe(true);
      const routes = await routesUntil(l.router, has('198.51.100.1/32', '2001:db8:100::1/128'), 10_000);
      const v4 = routes.get('198.51.100.1/32');
      const v6 = routes.get('2001:db8:100::1/128');
      expect(v4?.nextHops).toContain(lab.speaker4);
      expect(v6?.nextHops).toContain(lab.speaker6);
      for (const r of [v4, v6]) {
        expect(r?.communities).toEqual(['65010:100', '65010:200']);
        expect(r?.largeCommunities).toEqual([`${lab.speakerAsn}:1:2`]);
      }

      // Withdraw and announce again on the same session (SIGUSR1 / SIGUSR2).
      p.child.kill('SIGUSR1');
      await routesUntil(l.router, lacks('198.51.100.1/32', '2001:db8:100::1/128'), 10_000);
      expect(lacks('198.51.100.1/32', '2001:db8:100::1/128')(await l.router.routes())).toBe(true);
      expect(await l.router.established(lab.speaker4)).toBe(true);
      p.child.kill('SIGUSR2');
      expect(has('198.51.100.1/32', '2001:db8:100::1/128')(await routesUntil(l.router, has('198.51.100.1/32', '2001:db8:100::1/128'), 10_000))).toBe(true);

      if (kind === 'gobgp') {
        // GoBGP 3.10 answers `neighbor X softresetin` from its stored Adj-RIB-In and never sends
        // ROUTE-REFRESH, so the refresh half of this test runs against BIRD and FRR only.
      } else {
        const mark = p.lines.length;
        await l.router.refresh(lab.speaker4);
        const answered = (): boolean => {
          const after = p.lines.slice(mark);
          const asked = after.findIndex((line) => line === 'route-refresh 1/1');
          return asked >= 0 && after.slice(asked).some((line) => /^announced 1 in/.test(line));
        };
        expect(await waitUntil(answered, (v) => v, 10_000)).toBe(true);
        expect(has('198.51.100.1/32')(await l.router.routes())).toBe(true);
      }

      // SIGTERM: withdraw, Cease / Administrative Shutdown with our text (RFC 8203), exit 0.
      await signalled(p, 'SIGTERM');
      expect(await p.exited).toBe(0);
      expect(p.lines).toContain('notification-sent 6/2 vipcast stopping');
      const shown = await waitUntil(() => l.router.lastError(lab.speaker4), (text) => text.includes('vipcast stopping'), 10_000);
      expect(shown).toContain('vipcast stopping');
      expect(lacks('198.51.100.1/32', '2001:db8:100::1/128')(await routesUntil(l.router, lacks('198.51.100.1/32', '2001:db8:100::1/128'), 5000))).toBe(true);
    });

    it('reaches Established over IPv6 transport and the router holds our /128 and /32', async () => {
      const p = l.announce(sessionArgs(lab.speaker6, ['--prefix', '2001:db8:100::2', '--prefix', '198.51.100.2', '--next-hop', lab.speaker4, ...community]));
      await p.waitForLine(/^established$/, 20_000);
      const routes = await routesUntil(l.router, has('198.51.100.2/32', '2001:db8:100::2/128'), 10_000);
      expect(routes.get('2001:db8:100::2/128')?.nextHops).toContain(lab.speaker6);
      expect(routes.get('198.51.100.2/32')?.nextHops).toContain(lab.speaker4);
      expect(routes.get('2001:db8:100::2/128')?.largeCommunities).toEqual([`${lab.speakerAsn}:1:2`]);
      expect(await l.router.established(lab.speaker6)).toBe(true);
      await signalled(p, 'SIGTERM');
      expect(await waitUntil(() => l.router.lastError(lab.speaker6), (t) => t.includes('vipcast stopping'), 10_000)).toContain('vipcast stopping');
    });

    it('without --router-id or --next-hop: the router sees our IPv4 address as BGP identifier and gets the /128 with our IPv6 address as next hop', async () => {
      const args = sessionArgs(lab.speaker4, ['--prefix', '198.51.100.11', '--prefix', '2001:db8:100::11']);
      const i = args.indexOf('--router-id');
      args.splice(i, 2);
      const p = l.announce(args);
      await p.waitForLine(/^established$/, 20_000);
      const routes = await routesUntil(l.router, has('198.51.100.11/32', '2001:db8:100::11/128'), 10_000);
      expect(routes.get('198.51.100.11/32')?.nextHops).toContain(lab.speaker4);
      expect(routes.get('2001:db8:100::11/128')?.nextHops).toContain(lab.speaker6);
      expect(await l.router.neighborId(lab.speaker4)).toBe(lab.speaker4);
      expect(p.lines.some((line) => line.startsWith('not-announced'))).toBe(false);
      await signalled(p, 'SIGTERM');
    });

    it('a configured keepalive-time sets the interval of our KEEPALIVEs on the wire', async () => {
      const p = l.announce(sessionArgs(lab.speaker4, ['--prefix', '198.51.100.12', '--keepalive-time', '1']));
      await p.waitForLine(/^established$/, 20_000);
      await routesUntil(l.router, has('198.51.100.12/32'), 10_000);
      await new Promise((r) => setTimeout(r, 5500));
      await signalled(p, 'SIGTERM');
      await new Promise((r) => setTimeout(r, 1500));
      // BGP type 4 from our address: with hold time 6 the default would be one every 2 s.
      const out = await runHostCommand(['tshark', '-r', l.capture.file, '-Y', `ip.src == ${lab.speaker4} && bgp.type == 4`, '-T', 'fields', '-e', 'frame.time_epoch']);
      const times = out.stdout.trim().split('\n').filter((t) => t !== '').map(Number).slice(-5);
      expect(times.length).toBe(5);
      const gaps = times.slice(1).map((t, k) => t - (times[k] ?? 0));
      for (const gap of gaps) expect(gap).toBeLessThan(1.6);
    });

    it('SIGKILL: the router drops our routes, at the latest when the hold time runs out', async () => {
      const p = l.announce(sessionArgs(lab.speaker4, ['--prefix', '198.51.100.3']));
      await routesUntil(l.router, has('198.51.100.3/32'), 20_000);
      const killed = performance.now();
      await signalled(p, 'SIGKILL');
      const left = await routesUntil(l.router, lacks('198.51.100.3/32'), (lab.holdTime + 2) * 1000);
      expect(left.has('198.51.100.3/32')).toBe(false);
      expect(performance.now() - killed).toBeLessThan((lab.holdTime + 1) * 1000);
    });

    it('a frozen speaker (SIGSTOP) loses its routes when the router\'s hold timer expires, not before', async () => {
      const p = l.announce(sessionArgs(lab.speaker4, ['--prefix', '198.51.100.4']));
      await routesUntil(l.router, has('198.51.100.4/32'), 20_000);
      p.child.kill('SIGSTOP');
      const frozen = performance.now();
      try {
        await routesUntil(l.router, lacks('198.51.100.4/32'), (lab.holdTime + 4) * 1000);
        const elapsed = performance.now() - frozen;
        expect(lacks('198.51.100.4/32')(await l.router.routes())).toBe(true);
        // The last keepalive went out up to a keepalive interval before the freeze.
        expect(elapsed).toBeGreaterThan((lab.holdTime - lab.holdTime / 3 - 1) * 1000);
        expect(elapsed).toBeLessThan((lab.holdTime + 2) * 1000);
      } finally {
        p.child.kill('SIGKILL');
        p.child.kill('SIGCONT');
        await p.exited;
      }
    });

    it('graceful restart: after SIGKILL the router keeps our routes for the restart time, and a restarted speaker takes them over', async () => {
      const restart = 10;
      const args = sessionArgs(lab.speaker4, ['--prefix', '198.51.100.5', '--graceful-restart', String(restart)]);
      const first = l.announce(args);
      await routesUntil(l.router, has('198.51.100.5/32'), 20_000);
      await signalled(first, 'SIGKILL');
      const killed = performance.now();
      // Still there after the hold time has run out.
      await new Promise((r) => setTimeout(r, (lab.holdTime + 1) * 1000));
      const kept = (await l.router.routes()).get('198.51.100.5/32');
      expect(kept).toBeDefined();
      if (kind !== 'bird') expect(kept?.stale).toBe(true);
      // ... and gone once the restart time has passed.
      const gone = await routesUntil(l.router, lacks('198.51.100.5/32'), (restart + 5) * 1000 - (performance.now() - killed));
      expect(gone.has('198.51.100.5/32')).toBe(false);
      expect(performance.now() - killed).toBeGreaterThan((restart - 1) * 1000);

      // A speaker that comes back within the restart time refreshes the stale route (RFC 4724 4.2).
      const second = l.announce(args);
      await routesUntil(l.router, has('198.51.100.5/32'), 20_000);
      await signalled(second, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 1000));
      expect((await l.router.routes()).get('198.51.100.5/32')).toBeDefined();
      const third = l.announce(args);
      await third.waitForLine(/^end-of-rib$/, 20_000);
      const fresh = await routesUntil(l.router, (m) => m.get('198.51.100.5/32')?.stale === false, 10_000);
      expect(fresh.get('198.51.100.5/32')?.stale).toBe(false);
      await signalled(third, 'SIGTERM');
    });

    it('TCP MD5: the right password reaches Established with valid signatures, a wrong one never does', async () => {
      const good = l.announce(sessionArgs(lab.md5, ['--prefix', '198.51.100.6', '--password', lab.password]));
      await good.waitForLine(/^established$/, 20_000);
      expect(await waitUntil(() => l.router.established(lab.md5), (v) => v, 10_000)).toBe(true);
      await routesUntil(l.router, has('198.51.100.6/32'), 10_000);
      await signalled(good, 'SIGTERM');
      // tcpdump checks every signature against the key (RFC 2385 section 2); the capture
      // hands packets to the file in blocks, up to a second late.
      await new Promise((r) => setTimeout(r, 1500));
      const signed = await runHostCommand(['tcpdump', '-n', '-v', '-r', l.capture.file, '-M', lab.password, `host ${lab.md5} and tcp port 179`], true);
      // Every segment but resets is signed with the key; a closing socket's RST may go unsigned.
      const segments = signed.stdout.split('\n').filter((line) => /\.\d+: Flags \[[^R\]]*\]/.test(line));
      expect(segments.length, signed.stderr).toBeGreaterThan(5);
      expect(segments.filter((line) => !line.includes('md5 valid'))).toEqual([]);
      expect(signed.stdout).not.toContain('md5 invalid');

      const bad = l.announce(sessionArgs(lab.md5, ['--prefix', '198.51.100.7', '--password', 'not-the-password', '--connect-retry', '2']));
      // The router drops our wrongly signed SYNs without an answer; we say what is likely wrong.
      await waitUntil(() => bad.stderr(), (text) => text.includes('key mismatch is a likely cause'), 10_000);
      expect(bad.stderr()).toMatch(/no answer from 10\.0\.1\.1 within 2s; a TCP MD5 password is set, and a key mismatch is a likely cause/);
      expect(bad.lines).not.toContain('established');
      expect(await l.router.established(lab.md5)).toBe(false);
      expect((await l.router.routes()).has('198.51.100.7/32')).toBe(false);
      await signalled(bad, 'SIGTERM');
      expect(await bad.exited).toBe(0);
    });

    // GoBGP 3 has no BFD; BIRD (protocol bfd) and FRR (bfdd) are the witnesses.
    if (kind !== 'gobgp') {
      it('BFD: Up at the fast rate through Poll/Final; a frozen speaker loses its routes within the detect time', async () => {
        const p = l.announce(sessionArgs(lab.bfd, ['--prefix', '198.51.100.8', '--bfd', '--bfd-interval', '100', '--bfd-multiplier', '3']));
        await routesUntil(l.router, has('198.51.100.8/32'), 20_000);
        await p.waitForLine(/^bfd up$/, 15_000);
        expect(await waitUntil(() => l.router.bfdUp(lab.bfd), (v) => v, 10_000)).toBe(true);
        await new Promise((r) => setTimeout(r, 1500));
        p.child.kill('SIGSTOP');
        const frozen = performance.now();
        try {
          await routesUntil(l.router, lacks('198.51.100.8/32'), 5000);
          const elapsed = performance.now() - frozen;
          expect(lacks('198.51.100.8/32')(await l.router.routes())).toBe(true);
          // Detect time 3 x 100 ms at the router, plus its BGP teardown and our polling; far below the 6 s hold time.
          expect(elapsed).toBeLessThan(1500);
        } finally {
          p.child.kill('SIGKILL');
          p.child.kill('SIGCONT');
          await p.exited;
        }

        // The capture shows the Poll/Final exchange and our fast rate once Up (RFC 5880 6.5, 6.8.3).
        await new Promise((r) => setTimeout(r, 1500));
        const fields = ['frame.time_epoch', 'ip.src', 'bfd.sta', 'bfd.flags.p', 'bfd.flags.f', 'bfd.desired_min_tx_interval'];
        const out = await runHostCommand(['tshark', '-r', l.capture.file, '-Y', 'bfd', '-T', 'fields', ...fields.flatMap((f) => ['-e', f])]);
        // ICMP errors quoting a BFD packet list two sources ("a,b"); only plain BFD packets count.
        const rows = out.stdout.trim().split('\n').map((line) => line.split('\t')).filter((f) => !(f[1] ?? '').includes(','));
        const packets = rows.map(([time, src, sta, poll, final, tx]) => {
          const flag = (v: string | undefined): boolean => v === '1' || v === 'True';
          return { time: Number(time), ours: src === lab.bfd, up: Number(sta) === 3, poll: flag(poll), final: flag(final), tx: Number(tx) };
        });
        const ours = packets.filter((x) => x.ours);
        const pollIndex = packets.findIndex((x) => x.ours && x.up && x.poll);
        expect(pollIndex, out.stdout.slice(0, 1500)).toBeGreaterThanOrEqual(0);
        expect(packets.slice(pollIndex).some((x) => !x.ours && x.final)).toBe(true);
        const oursUp = ours.filter((x) => x.up);
        expect(oursUp.length).toBeGreaterThan(5);
        const lastUp = oursUp.slice(-6);
        const gaps = lastUp.slice(1).map((x, i) => x.time - (lastUp[i]?.time ?? 0));
        expect(Math.max(...gaps)).toBeLessThan(0.15);
        if (packets.some((x) => !x.ours && x.poll)) expect(ours.some((x) => x.final)).toBe(true);
      });
    }

    if (kind !== 'gobgp') {
      it('BFD: when the router\'s BFD packets stop arriving we drop the session within our detect time', async () => {
        const p = l.announce(sessionArgs(lab.bfd, ['--prefix', '198.51.100.10', '--bfd', '--bfd-interval', '100', '--bfd-multiplier', '3']));
        await routesUntil(l.router, has('198.51.100.10/32'), 20_000);
        await p.waitForLine(/^bfd up$/, 15_000);
        await new Promise((r) => setTimeout(r, 1000));
        // Blackhole BFD Control packets (UDP to 3784) arriving at the speaker with a policy rule
        // placed before the local table (moved behind it for this); BGP keeps flowing.
        const ip = (...args: string[]): Promise<unknown> => l.topo.run(l.speaker, ['ip', ...args]);
        await ip('rule', 'add', 'priority', '1000', 'lookup', 'local');
        await ip('rule', 'del', 'priority', '0');
        const from = p.lines.length;
        const cut = performance.now();
        try {
          await ip('rule', 'add', 'priority', '10', 'iif', 'eth0', 'ipproto', 'udp', 'dport', '3784', 'blackhole');
          await waitUntil(() => p.lines.slice(from), (lines) => lines.includes('bfd down diag 1') && lines.includes('idle'), 5000);
          const after = p.lines.slice(from);
          expect(after).toContain('bfd down diag 1');
          expect(after).toContain('idle');
          expect(after.some((line) => line.startsWith('notification-sent'))).toBe(false);
          const gone = await routesUntil(l.router, lacks('198.51.100.10/32'), 5000);
          expect(gone.has('198.51.100.10/32')).toBe(false);
          // Detect time 300 ms; allow for polling the router's CLI on a busy machine.
          expect(performance.now() - cut).toBeLessThan(2000);
        } finally {
          await ip('rule', 'del', 'priority', '10');
          await ip('rule', 'add', 'priority', '0', 'lookup', 'local');
          await ip('rule', 'del', 'priority', '1000');
        }
      });
    }

    it('tshark finds no malformed packet in the capture of the router link', async () => {
      // Its own session first, so the check holds when this test runs alone.
      const p = l.announce(sessionArgs(lab.speaker4, ['--prefix', '198.51.100.13', '--prefix', '2001:db8:100::13', '--next-hop', lab.speaker6, ...community]));
      await p.waitForLine(/^established$/, 20_000);
      await routesUntil(l.router, has('198.51.100.13/32', '2001:db8:100::13/128'), 10_000);
      await signalled(p, 'SIGTERM');
      await new Promise((r) => setTimeout(r, 1500));
      const file = await l.capture.stop();
      const bgp = await runHostCommand(['tshark', '-r', file, '-Y', 'bgp', '-T', 'fields', '-e', 'frame.number']);
      expect(bgp.stdout.trim().split('\n').length).toBeGreaterThan(8);
      const malformed = await runHostCommand(['tshark', '-r', file, '-Y', '_ws.malformed']);
      expect(malformed.stdout).toBe('');
    });
  });
}
