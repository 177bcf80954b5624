// Real BGP routers in test namespaces: BIRD 2, FRR 8.4 (zebra + bgpd, and bfdd when asked) and
// GoBGP 3, each started from its Debian package with a generated configuration, and read back
// through its own CLI (birdc text, vtysh JSON, gobgp JSON). They are the independent witnesses
// of the BGP tier and the bench: nothing here knows how vipcast encodes anything.
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIPv6 } from 'node:net';
import { runHostCommand, pollValue, type Host, type HostProcess, type Topology } from './netns.js';

/** Which router implementation. */
export type RouterKind = 'bird' | 'frr' | 'gobgp';

/** One neighbour as the router sees it: our speaker's address and ASN. */
export interface RouterPeer {
  /** The speaker's source address. */
  readonly address: string;
  /** The speaker's ASN. */
  readonly asn: number;
  /** TCP MD5 password (RFC 2385). */
  readonly password?: string;
  /** Run single-hop BFD with this neighbour (RFC 5881). */
  readonly bfd?: boolean;
  /** Wait for the neighbour to connect (default); false makes the router connect out too. */
  readonly passive?: boolean;
  /** Start with the neighbour disabled (BIRD only; enable with `cli(['enable', name])`). */
  readonly disabled?: boolean;
}

/** What to start. */
export interface RouterSpec extends BirdConfigSpec {
  readonly kind: RouterKind;
  readonly host: Host;
}

/** A router's configuration, as the one BIRD generator (birdConfig) and the FRR and GoBGP ones read it. */
export interface BirdConfigSpec {
  readonly routerId: string;
  readonly asn: number;
  readonly peers: readonly RouterPeer[];
  /** Hold time the router proposes, seconds; keepalive is a third of it. */
  readonly holdTime: number;
  /** Source address for connections (GoBGP only). */
  readonly localAddress?: string;
  /** BFD intervals in milliseconds and multiplier, when any peer uses BFD. */
  readonly bfd?: { readonly intervalMs: number; readonly multiplier: number };
  /** Install what is learned into the router's kernel, one route with a next hop per speaker (ECMP; BIRD only: the lab's router). */
  readonly kernelEcmp?: boolean;
}

/** A route as the router holds it. */
export interface RouterRoute {
  /** Prefix in the router's own notation, e.g. "10.9.0.1/32" or "fd00:9::1/128". */
  readonly prefix: string;
  /** Next hop addresses. */
  readonly nextHops: readonly string[];
  /** COMMUNITIES as "A:B". */
  readonly communities: readonly string[];
  /** LARGE_COMMUNITY as "A:B:C". */
  readonly largeCommunities: readonly string[];
  /** True when kept as stale during a graceful restart (RFC 4724 section 4.2). */
  readonly stale: boolean;
}

/** A running router. */
export interface BgpRouter {
  readonly kind: RouterKind;
  readonly host: Host;
  /** Every BGP route it holds, keyed by prefix (lower case). */
  routes(): Promise<Map<string, RouterRoute>>;
  /** True when the session with this neighbour is Established. */
  established(peer: string): Promise<boolean>;
  /** The router's description of the last NOTIFICATION it received from this neighbour. */
  lastError(peer: string): Promise<string>;
  /** The BGP Identifier the neighbour sent in its OPEN, as the router shows it. */
  neighborId(peer: string): Promise<string>;
  /** Asks the neighbour to send its routes again (ROUTE-REFRESH, RFC 2918). */
  refresh(peer: string): Promise<void>;
  /** True when the router's BFD session with this neighbour is Up. */
  bfdUp(peer: string): Promise<boolean>;
  /** The router's own process (bgpd for FRR). */
  readonly process: HostProcess;
  /** Runs the router's CLI (birdc arguments, one vtysh command, gobgp arguments) and returns its output. */
  cli(args: readonly string[]): Promise<string>;
}

/** BIRD's protocol name for a neighbour address. */
export const birdProtocolName = (address: string): string => `p_${address.replace(/[.:]/g, '_')}`;

const protoName = birdProtocolName;
const keepalive = (hold: number): number => Math.max(1, Math.floor(hold / 3));

/** Starts a router of `spec.kind` in its host and waits until its CLI answers. */
export async function startRouter(topo: Topology, spec: RouterSpec): Promise<BgpRouter> {
  for (const command of ['bird', 'birdc', 'vtysh', 'gobgpd', 'gobgp']) {
    const found = await runHostCommand(['sh', '-c', `command -v ${command}`], true);
    if (found.code !== 0) throw new Error(`${command} is missing: run "npm run setup" (Debian packages bird2, frr, gobgpd)`);
  }
  const dir = join(topo.dir, `${spec.kind}-${spec.host.name}`);
  mkdirSync(dir, { recursive: true });
  chmodSync(topo.dir, 0o755);
  switch (spec.kind) {
    case 'bird':
      return startBird(topo, spec, dir);
    case 'frr':
      return startFrr(topo, spec, dir);
    case 'gobgp':
      return startGobgp(topo, spec, dir);
  }
}

async function ready(probe: () => Promise<boolean>, what: string, process: HostProcess): Promise<void> {
  const ok = await pollValue(probe, (v) => v, 15_000, 100);
  if (!ok) throw new Error(`${what} did not come up; stderr: ${process.stderr().slice(-2000)}`);
}

// ---------------------------------------------------------------- BIRD 2

/** BIRD 2's configuration for a spec: the only BIRD generator, for the tests' and benches' routers and the lab's. */
export function birdConfig(spec: BirdConfigSpec): string {
  const lines = [`router id ${spec.routerId};`, 'protocol device { scan time 1; }'];
  if (spec.kernelEcmp) {
    lines.push(
      'protocol direct { ipv4; ipv6; }',
      // ECMP: one kernel route with a next hop per speaker.
      'protocol kernel { ipv4 { export all; }; merge paths on; }',
      'protocol kernel { ipv6 { export all; }; merge paths on; }',
    );
  }
  if (spec.bfd) lines.push(`protocol bfd { interface "*" { min rx interval ${spec.bfd.intervalMs} ms; min tx interval ${spec.bfd.intervalMs} ms; multiplier ${spec.bfd.multiplier}; }; }`);
  for (const p of spec.peers) {
    lines.push(`protocol bgp ${protoName(p.address)} {`);
    lines.push(`  local as ${spec.asn}; neighbor ${p.address} as ${p.asn}; ${p.passive === false ? 'connect retry time 1; connect delay time 1;' : 'passive on;'}`);
    if (p.disabled) lines.push('  disabled;');
    lines.push(`  hold time ${spec.holdTime}; keepalive time ${keepalive(spec.holdTime)}; error wait time 1, 2;`);
    if (p.password !== undefined) lines.push(`  password "${p.password}";`);
    if (p.bfd) lines.push('  bfd on;');
    // RFC 8212: an eBGP session imports nothing without an explicit policy.
    lines.push('  ipv4 { import all; export none; };', '  ipv6 { import all; export none; };', '}');
  }
  return `${lines.join('\n')}\n`;
}

async function startBird(topo: Topology, spec: RouterSpec, dir: string): Promise<BgpRouter> {
  const conf = join(dir, 'bird.conf');
  const socket = join(dir, 'bird.ctl');
  writeFileSync(conf, birdConfig(spec));
  const process = topo.start(spec.host, ['bird', '-f', '-c', conf, '-s', socket]);
  const birdc = async (...args: string[]): Promise<string> => (await runHostCommand(['birdc', '-s', socket, ...args], true)).stdout;
  await ready(async () => (await birdc('show', 'status')).includes('Daemon is up'), 'BIRD', process);
  const protocol = (peer: string): Promise<string> => birdc('show', 'protocols', 'all', protoName(peer));
  return {
    kind: 'bird',
    host: spec.host,
    process,
    cli: (args) => birdc(...args),
    routes: async () => parseBirdRoutes(await birdc('show', 'route', 'all')),
    established: async (peer) => /BGP state:\s+Established/.test(await protocol(peer)),
    lastError: async (peer) => (await protocol(peer)).split('\n').slice(1, 4).join('\n'),
    neighborId: async (peer) => /Neighbor ID:\s+(\S+)/.exec(await protocol(peer))?.[1] ?? '',
    refresh: async (peer) => void (await birdc('reload', 'in', protoName(peer))),
    bfdUp: async (peer) => new RegExp(`^${peer.replace(/\./g, '\\.')}\\s+\\S+\\s+Up`, 'm').test(await birdc('show', 'bfd', 'sessions')),
  };
}

/** Parses `birdc show route all`: a prefix line opens a route, indented attribute lines follow. */
export function parseBirdRoutes(text: string): Map<string, RouterRoute> {
  const out = new Map<string, RouterRoute>();
  let current: { prefix: string; nextHops: string[]; communities: string[]; largeCommunities: string[]; stale: boolean } | undefined;
  const flush = (): void => {
    if (current) out.set(current.prefix, current);
    current = undefined;
  };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^\d{4}[- ]/, '');
    const head = /^([0-9a-f.:]+\/\d+)\s+\S+\s+\[/i.exec(line);
    if (head?.[1]) {
      flush();
      current = { prefix: head[1].toLowerCase(), nextHops: [], communities: [], largeCommunities: [], stale: false };
      continue;
    }
    if (!current) continue;
    const via = /^\s+via\s+(\S+)/.exec(line);
    if (via?.[1]) current.nextHops.push(via[1]);
    const nh = /^\s+BGP\.next_hop:\s+(.*)$/.exec(line);
    if (nh?.[1] && current.nextHops.length === 0) current.nextHops.push(...nh[1].trim().split(/\s+/));
    const comm = /^\s+BGP\.community:\s+(.*)$/.exec(line);
    if (comm?.[1]) current.communities.push(...[...comm[1].matchAll(/\((\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`));
    const large = /^\s+BGP\.large_community:\s+(.*)$/.exec(line);
    if (large?.[1]) current.largeCommunities.push(...[...large[1].matchAll(/\((\d+),\s*(\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}:${m[3]}`));
    if (/\bstale\b/i.test(line) && /^\s+(Type|BGP\.)/.test(line) === false) current.stale = true;
  }
  flush();
  return out;
}

// ---------------------------------------------------------------- FRR 8.4

function frrConfig(spec: RouterSpec): string {
  const lines = ['frr defaults traditional', 'hostname r', 'log stdout'];
  lines.push(`router bgp ${spec.asn}`, ` bgp router-id ${spec.routerId}`, ' no bgp ebgp-requires-policy', ' no bgp network import-check', ' bgp graceful-restart');
  for (const p of spec.peers) {
    lines.push(` neighbor ${p.address} remote-as ${p.asn}`, ` neighbor ${p.address} passive`, ` neighbor ${p.address} timers ${keepalive(spec.holdTime)} ${spec.holdTime}`);
    if (p.password !== undefined) lines.push(` neighbor ${p.address} password ${p.password}`);
    if (p.bfd) lines.push(` neighbor ${p.address} bfd`, ` neighbor ${p.address} bfd profile fast`);
  }
  lines.push(' address-family ipv4 unicast');
  for (const p of spec.peers) lines.push(`  neighbor ${p.address} activate`);
  lines.push(' exit-address-family', ' address-family ipv6 unicast');
  for (const p of spec.peers) lines.push(`  neighbor ${p.address} activate`);
  lines.push(' exit-address-family', 'exit');
  return `${lines.join('\n')}\n`;
}

/** bfdd's own file: the "fast" profile bgpd's neighbours refer to. */
function frrBfdConfig(spec: RouterSpec): string {
  const lines = ['hostname r', 'log stdout'];
  if (spec.bfd) {
    lines.push('bfd', ' profile fast', `  receive-interval ${spec.bfd.intervalMs}`, `  transmit-interval ${spec.bfd.intervalMs}`, `  detect-multiplier ${spec.bfd.multiplier}`, ' exit', 'exit');
  }
  return `${lines.join('\n')}\n`;
}

async function startFrr(topo: Topology, spec: RouterSpec, dir: string): Promise<BgpRouter> {
  const frr = await runHostCommand(['id', '-u', 'frr'], true);
  if (frr.code !== 0) throw new Error('user frr is missing: install the Debian package frr (npm run setup)');
  const uid = Number(frr.stdout.trim());
  const gid = Number((await runHostCommand(['id', '-g', 'frr'])).stdout.trim());
  chownSync(dir, uid, gid);
  const files = { zebra: join(dir, 'zebra.conf'), bgpd: join(dir, 'bgpd.conf'), bfdd: join(dir, 'bfdd.conf') };
  writeFileSync(files.zebra, 'hostname r\n');
  writeFileSync(files.bgpd, frrConfig(spec));
  writeFileSync(files.bfdd, frrBfdConfig(spec));
  for (const f of Object.values(files)) chownSync(f, uid, gid);
  const common = (name: string): string[] => ['-P', '0', '--vty_socket', dir, '-z', join(dir, 'zserv.api'), '-i', join(dir, `${name}.pid`), '-u', 'frr', '-g', 'frr'];
  const zebra = topo.start(spec.host, ['/usr/lib/frr/zebra', ...common('zebra'), '-f', files.zebra]);
  const vtysh = async (command: string): Promise<string> => (await runHostCommand(['ip', 'netns', 'exec', spec.host.ns, 'vtysh', '--vty_socket', dir, '-c', command], true)).stdout;
  await ready(async () => (await vtysh('show version')).includes('FRRouting'), 'FRR zebra', zebra);
  if (spec.bfd) {
    const bfdd = topo.start(spec.host, ['/usr/lib/frr/bfdd', ...common('bfdd'), '-f', files.bfdd]);
    await ready(async () => !(await vtysh('show bfd peers')).includes('not running'), 'FRR bfdd', bfdd);
  }
  const bgpd = topo.start(spec.host, ['/usr/lib/frr/bgpd', ...common('bgpd'), '-f', files.bgpd]);
  await ready(async () => (await vtysh('show bgp summary json')).includes('ipv4Unicast'), 'FRR bgpd', bgpd);
  const rejected = bgpd.lines.filter((l) => l.includes('No such command'));
  if (rejected.length > 0) throw new Error(`FRR bgpd rejected configuration lines: ${rejected.join('; ')}`);
  const neighbor = async (peer: string): Promise<Record<string, unknown>> => {
    const parsed = JSON.parse((await vtysh(`show bgp neighbors ${peer} json`)) || '{}') as Record<string, Record<string, unknown>>;
    return parsed[peer] ?? {};
  };
  return {
    kind: 'frr',
    host: spec.host,
    process: bgpd,
    cli: (args) => vtysh(args.join(' ')),
    routes: async () => {
      const out = new Map<string, RouterRoute>();
      for (const family of ['ipv4', 'ipv6']) {
        const table = JSON.parse((await vtysh(`show bgp ${family} unicast json`)) || '{}') as { routes?: Record<string, unknown> };
        for (const prefix of Object.keys(table.routes ?? {})) {
          const detail = JSON.parse((await vtysh(`show bgp ${family} unicast ${prefix} json`)) || '{}') as { paths?: FrrPath[] };
          const path = detail.paths?.[0];
          if (!path) continue;
          out.set(prefix.toLowerCase(), {
            prefix: prefix.toLowerCase(),
            nextHops: (path.nexthops ?? []).map((n) => n.ip ?? '').filter((ip) => ip !== ''),
            communities: path.community?.string?.split(' ').filter((s) => s !== '') ?? [],
            largeCommunities: path.largeCommunity?.string?.split(' ').filter((s) => s !== '') ?? [],
            stale: path.stale === true,
          });
        }
      }
      return out;
    },
    established: async (peer) => (await neighbor(peer)).bgpState === 'Established',
    neighborId: async (peer) => {
      const id = (await neighbor(peer)).remoteRouterId;
      return typeof id === 'string' ? id : '';
    },
    lastError: async (peer) => {
      const n = await neighbor(peer);
      return [n.lastNotificationReason, n.lastShutdownDescription, n.lastResetDueTo].filter((s) => typeof s === 'string').join('; ');
    },
    refresh: async (peer) => {
      await vtysh(`clear bgp ipv4 unicast ${peer} soft in`);
    },
    bfdUp: async (peer) => {
      const peers = JSON.parse((await vtysh('show bfd peers json')) || '[]') as { peer?: string; status?: string }[];
      return peers.some((p) => p.peer === peer && p.status === 'up');
    },
  };
}

interface FrrPath {
  nexthops?: { ip?: string }[];
  community?: { string?: string };
  largeCommunity?: { string?: string };
  stale?: boolean;
}

// ---------------------------------------------------------------- GoBGP 3

function gobgpConfig(spec: RouterSpec): string {
  const lines = ['[global.config]', `  as = ${spec.asn}`, `  router-id = "${spec.routerId}"`];
  for (const p of spec.peers) {
    lines.push('[[neighbors]]', '  [neighbors.config]', `    neighbor-address = "${p.address}"`, `    peer-as = ${p.asn}`);
    if (p.password !== undefined) lines.push(`    auth-password = "${p.password}"`);
    lines.push('  [neighbors.timers.config]', `    hold-time = ${spec.holdTime}`, `    keepalive-interval = ${keepalive(spec.holdTime)}`, '    connect-retry = 1', '    idle-hold-time-after-reset = 1');
    lines.push('  [neighbors.transport.config]', `    passive-mode = ${p.passive === false ? 'false' : 'true'}`);
    if (spec.localAddress !== undefined) lines.push(`    local-address = "${spec.localAddress}"`);
    else if (isIPv6(p.address)) lines.push('    local-address = "::"');
    lines.push('  [neighbors.graceful-restart.config]', '    enabled = true', '    helper-only = true');
    for (const family of ['ipv4-unicast', 'ipv6-unicast']) {
      lines.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = "${family}"`);
      lines.push('    [neighbors.afi-safis.mp-graceful-restart.config]', '      enabled = true');
    }
  }
  return `${lines.join('\n')}\n`;
}

interface GobgpPath {
  nlri?: { prefix?: string };
  attrs?: { type: number; nexthop?: string; communities?: number[]; value?: { ASN: number; LocalData1: number; LocalData2: number }[] }[];
  stale?: boolean;
}

async function startGobgp(topo: Topology, spec: RouterSpec, dir: string): Promise<BgpRouter> {
  const conf = join(dir, 'gobgpd.toml');
  writeFileSync(conf, gobgpConfig(spec));
  const process = topo.start(spec.host, ['gobgpd', '-f', conf, '-t', 'toml', '--api-hosts', '127.0.0.1:50051', '--log-plain']);
  const gobgp = async (...args: string[]): Promise<string> =>
    (await runHostCommand(['ip', 'netns', 'exec', spec.host.ns, 'gobgp', '-u', '127.0.0.1', '-p', '50051', ...args], true)).stdout;
  await ready(async () => (await gobgp('global')).includes(spec.routerId), 'GoBGP', process);
  const neighbor = async (peer: string): Promise<{ state?: { session_state?: number | string; router_id?: string } }> => {
    const text = await gobgp('neighbor', peer, '-j');
    try {
      return JSON.parse(text) as { state?: { session_state?: number | string; router_id?: string } };
    } catch {
      return {};
    }
  };
  return {
    kind: 'gobgp',
    host: spec.host,
    process,
    cli: (args) => gobgp(...args),
    routes: async () => {
      const out = new Map<string, RouterRoute>();
      for (const family of ['ipv4', 'ipv6']) {
        const text = await gobgp('global', 'rib', '-a', family, '-j');
        const table = (text.trim() === '' ? {} : JSON.parse(text)) as Record<string, GobgpPath[]>;
        for (const [prefix, paths] of Object.entries(table)) {
          const path = paths[0];
          if (!path) continue;
          const attrs = path.attrs ?? [];
          const nextHops = attrs.filter((a) => a.type === 3 || a.type === 14).map((a) => a.nexthop ?? '').filter((s) => s !== '');
          const communities = (attrs.find((a) => a.type === 8)?.communities ?? []).map((c) => `${Math.floor(c / 0x10000)}:${c % 0x10000}`);
          const largeCommunities = (attrs.find((a) => a.type === 32)?.value ?? []).map((v) => `${v.ASN}:${v.LocalData1}:${v.LocalData2}`);
          out.set(prefix.toLowerCase(), { prefix: prefix.toLowerCase(), nextHops, communities, largeCommunities, stale: path.stale === true });
        }
      }
      return out;
    },
    neighborId: async (peer) => (await neighbor(peer)).state?.router_id ?? '',
    established: async (peer) => {
      const s = (await neighbor(peer)).state?.session_state;
      return s === 6 || s === 'established' || s === 'ESTABLISHED';
    },
    lastError: (peer) =>
      Promise.resolve(
        [...process.lines, ...process.stderr().split('\n')]
          .filter((l) => l.includes('received notification') && l.includes(`Key=${isIPv6(peer) ? `"${peer}"` : peer}`))
          .pop() ?? '',
      ),
    refresh: async (peer) => void (await gobgp('neighbor', peer, 'softresetin')),
    bfdUp: () => Promise.reject(new Error('GoBGP 3 has no BFD')),
  };
}
