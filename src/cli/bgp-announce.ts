// `vipcast bgp announce`: one BGP session that announces host routes until SIGTERM, printing
// each session change on its own line so people and tests can follow it.
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { waitForStop } from './stop.js';
import type { Prefix } from '../../speakers/bgp/codec/index.js';
import { checkRoutes, type Route } from '../../speakers/bgp/advertiser.js';
import { checkTcpSupport } from '../../speakers/bgp/tcp-connect.js';
import { BgpSession, type SessionConfig, type SessionEvent } from '../../speakers/bgp/session.js';

const help = `usage: vipcast bgp announce --peer ADDR --peer-asn N --my-asn N --prefix P [options]

Opens a BGP session to one router and announces host routes until SIGTERM or SIGINT, which
withdraw them and close with Cease / Administrative Shutdown and a message (RFC 8203).

  --peer ADDR                 router address (IPv4 or IPv6)
  --peer-asn N, --my-asn N    AS numbers (1..4294967295); equal means iBGP
  --prefix P                  address or prefix to announce, repeatable (bare address = /32, /128)
  --router-id ID              BGP identifier; default our IPv4 address on the session
                              (required when the session runs over IPv6)
  --source ADDR               source address of the TCP connection
  --peer-port N               router's TCP port (default 179)
  --connect-retry S           give up one connect attempt after S seconds (default 30)
  --hold-time S               proposed hold time, 0 or 3..65535 (default 90)
  --keepalive-time S          seconds between KEEPALIVEs, 1..hold time (default hold time / 3)
  --next-hop NH               next hop, one per family; default our end of the session
  --community A:B             community, repeatable
  --large-community A:B:C     large community, repeatable
  --local-pref N              LOCAL_PREF for iBGP (default 100)
  --graceful-restart S        offer graceful restart with this restart time (0..4095)
  --shutdown-message TEXT     text sent with the Cease on exit (default "vipcast stopping")
  --password P                TCP MD5 signature key shared with the router (RFC 2385)
  --ebgp-multihop N           IP TTL / IPv6 hop limit of our packets (1..255)
  --bfd                       run single-hop BFD with the router (RFC 5881)
  --bfd-interval MS           BFD transmit/receive interval once Up (default 300)
  --bfd-multiplier N          BFD detect multiplier (default 3)

SIGUSR1 withdraws every route and keeps the session; SIGUSR2 announces them again.

Prints one line per event: idle, connect, opensent, openconfirm, established,
announced N in M, withdrawn N in M, end-of-rib, paused, resumed, route-refresh AFI/SAFI, notification-sent C/S [text],
notification-received C/S [text], received N looped M, reconnect MS, bfd up, bfd down diag D,
not-announced N: REASON: PREFIXES (a route that cannot be sent, say for lack of a next hop of
its family; by default an address of ours on the session's interface is used).`;

class UsageError extends Error {}

function integer(text: string | undefined, what: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${what} must be an integer in ${min}..${max}, not "${text}"`);
  return n;
}

function prefixOf(text: string): Prefix {
  const [address = '', len] = text.split('/');
  const version = isIP(address);
  if (version === 0) throw new UsageError(`--prefix "${text}" is not an IP address or prefix`);
  const max = version === 4 ? 32 : 128;
  const length = integer(len ?? String(max), `prefix length in "${text}"`, 0, max) ?? max;
  return { family: version === 4 ? 'ipv4' : 'ipv6', address: version === 4 ? address : address.toLowerCase(), length };
}

function communityOf(text: string): number {
  const parts = text.split(':');
  if (parts.length !== 2) throw new UsageError(`--community "${text}" must be ASN:VALUE`);
  const [hi, lo] = parts.map((p) => integer(p, `--community "${text}" part`, 0, 0xffff) ?? 0) as [number, number];
  return hi * 0x10000 + lo;
}

function largeCommunityOf(text: string): [number, number, number] {
  const parts = text.split(':');
  if (parts.length !== 3) throw new UsageError(`--large-community "${text}" must be GLOBAL:LOCAL1:LOCAL2`);
  return parts.map((p) => integer(p, `--large-community "${text}" part`, 0, 0xffffffff) ?? 0) as [number, number, number];
}

function format(e: SessionEvent): string {
  switch (e.type) {
    case 'state':
      return e.state.toLowerCase();
    case 'notification-sent':
    case 'notification-received':
      return `${e.type} ${e.message.code}/${e.message.subcode}${e.message.shutdownMessage ? ` ${e.message.shutdownMessage}` : ''}`;
    case 'announced':
    case 'withdrawn':
      return `${e.type} ${e.prefixes} in ${e.messages}`;
    case 'end-of-rib':
      return 'end-of-rib';
    case 'route-refresh':
      return `route-refresh ${e.afi}/${e.safi}`;
    case 'received':
      return `received ${e.prefixes} looped ${e.looped}`;
    case 'reconnect':
      return `reconnect ${e.delayMs}`;
    case 'error':
      return `error ${e.message}`;
    case 'bfd':
      return `bfd ${e.state}${e.diag !== undefined ? ` diag ${e.diag}` : ''}`;
    case 'not-announced':
      return `not-announced ${e.prefixes.length}: ${e.reason}: ${e.prefixes.join(' ')}`;
  }
}

interface Announce {
  readonly session: SessionConfig;
  readonly routes: Route[];
  readonly shutdownMessage: string;
}

function parse(args: string[]): Announce | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      peer: { type: 'string' },
      'peer-asn': { type: 'string' },
      'my-asn': { type: 'string' },
      'router-id': { type: 'string' },
      password: { type: 'string' },
      bfd: { type: 'boolean' },
      'ebgp-multihop': { type: 'string' },
      'bfd-interval': { type: 'string' },
      'bfd-multiplier': { type: 'string' },
      'hold-time': { type: 'string' },
      'keepalive-time': { type: 'string' },
      'peer-port': { type: 'string' },
      'connect-retry': { type: 'string' },
      source: { type: 'string' },
      'graceful-restart': { type: 'string' },
      prefix: { type: 'string', multiple: true },
      community: { type: 'string', multiple: true },
      'large-community': { type: 'string', multiple: true },
      'next-hop': { type: 'string', multiple: true },
      'local-pref': { type: 'string' },
      'shutdown-message': { type: 'string' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const password = values.password;
  if (password !== undefined && (password.length === 0 || Buffer.byteLength(password) > 80)) throw new UsageError('--password must be 1..80 octets (RFC 2385)');
  const ttl = integer(values['ebgp-multihop'], '--ebgp-multihop', 1, 255);
  const bfdInterval = integer(values['bfd-interval'], '--bfd-interval', 10, 60_000);
  const bfdMultiplier = integer(values['bfd-multiplier'], '--bfd-multiplier', 1, 255);
  const bfd = values.bfd
    ? { ...(bfdInterval !== undefined ? { intervalMs: bfdInterval } : {}), ...(bfdMultiplier !== undefined ? { multiplier: bfdMultiplier } : {}) }
    : undefined;
  const peer = values.peer;
  if (peer === undefined || isIP(peer) === 0) throw new UsageError('--peer must be an IPv4 or IPv6 address');
  const peerAsn = integer(values['peer-asn'], '--peer-asn', 1, 0xffffffff);
  const myAsn = integer(values['my-asn'], '--my-asn', 1, 0xffffffff);
  if (peerAsn === undefined || myAsn === undefined) throw new UsageError('--peer-asn and --my-asn are required');
  const source = values.source;
  if (source !== undefined && isIP(source) === 0) throw new UsageError(`--source "${source}" is not an IP address`);
  const routerId = values['router-id'] ?? (source !== undefined && isIP(source) === 4 ? source : undefined);
  if (routerId === undefined && isIP(peer) === 6) throw new UsageError('--router-id is required for a session over IPv6 (an IPv4 address, RFC 4271 section 4.2)');
  if (routerId !== undefined && (isIP(routerId) !== 4 || routerId === '0.0.0.0')) throw new UsageError('--router-id must be a non-zero IPv4 address');
  const holdTime = integer(values['hold-time'], '--hold-time', 0, 0xffff);
  if (holdTime === 1 || holdTime === 2) throw new UsageError('--hold-time must be 0 or at least 3 (RFC 4271 section 4.2)');
  const keepaliveTime = integer(values['keepalive-time'], '--keepalive-time', 1, 0xffff);
  if (keepaliveTime !== undefined && keepaliveTime > (holdTime ?? 90)) throw new UsageError(`--keepalive-time ${keepaliveTime} is longer than the hold time ${holdTime ?? 90}`);
  if (keepaliveTime !== undefined && holdTime === 0) throw new UsageError('--keepalive-time cannot be used with --hold-time 0 (no KEEPALIVEs are sent)');
  const prefixes = (values.prefix ?? []).map(prefixOf);
  if (prefixes.length === 0) throw new UsageError('give at least one --prefix');
  const hops: Partial<Record<'ipv4' | 'ipv6', string>> = {};
  for (const nh of values['next-hop'] ?? []) {
    const v = isIP(nh);
    if (v === 0) throw new UsageError(`--next-hop "${nh}" is not an IP address`);
    const family = v === 4 ? 'ipv4' : 'ipv6';
    if (hops[family] !== undefined) throw new UsageError(`--next-hop given twice for ${family}`);
    hops[family] = nh;
  }
  const communities = (values.community ?? []).map(communityOf);
  const largeCommunities = (values['large-community'] ?? []).map(largeCommunityOf);
  const localPref = integer(values['local-pref'], '--local-pref', 0, 0xffffffff);
  const routes: Route[] = prefixes.map((prefix) => ({
    prefix,
    nextHop: hops[prefix.family] ?? '',
    ...(communities.length > 0 ? { communities } : {}),
    ...(largeCommunities.length > 0 ? { largeCommunities } : {}),
    ...(localPref !== undefined ? { localPref } : {}),
  }));
  const gracefulRestartTime = integer(values['graceful-restart'], '--graceful-restart', 0, 4095);
  const peerPort = integer(values['peer-port'], '--peer-port', 1, 65535);
  const connectRetryTime = integer(values['connect-retry'], '--connect-retry', 1, 3600);
  const session: SessionConfig = {
    peerAddress: peer,
    myAsn,
    peerAsn,
    ...(routerId !== undefined ? { routerId } : {}),
    ...(source !== undefined ? { localAddress: source } : {}),
    ...(peerPort !== undefined ? { peerPort } : {}),
    ...(connectRetryTime !== undefined ? { connectRetryTime } : {}),
    ...(holdTime !== undefined ? { holdTime } : {}),
    ...(keepaliveTime !== undefined ? { keepaliveTime } : {}),
    ...(gracefulRestartTime !== undefined ? { gracefulRestartTime } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(ttl !== undefined ? { ttl } : {}),
    ...(bfd !== undefined ? { bfd } : {}),
  };
  const shutdownMessage = values['shutdown-message'] ?? 'vipcast stopping';
  if (Buffer.byteLength(shutdownMessage) > 255) throw new UsageError('--shutdown-message is longer than 255 octets (RFC 9003)');
  return { session, routes, shutdownMessage };
}

/** Runs `bgp announce` until SIGTERM/SIGINT; returns 0 after a clean shutdown, 2 on usage errors (RFC 4271, RFC 8203). */
export async function bgpAnnounceCommand(args: string[]): Promise<number> {
  let announce: Announce | 'help';
  try {
    announce = parse(args);
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
    console.error(`vipcast bgp announce: ${error.message}\n\n${help}`);
    return 2;
  }
  if (announce === 'help') {
    console.log(help);
    return 0;
  }
  const { session: config, routes, shutdownMessage } = announce;
  try {
    checkTcpSupport({ host: config.peerAddress, port: config.peerPort ?? 179, ...config });
    checkRoutes(routes, config.myAsn);
  } catch (error) {
    console.error(`vipcast bgp announce: ${(error as Error).message}`);
    return 1;
  }
  const session = new BgpSession(config, (e) => {
    if (e.type === 'error' || e.type === 'not-announced') console.error(format(e));
    else console.log(format(e));
  });
  session.setRoutes(routes);
  session.start();
  const pause = (): void => {
    console.log('paused');
    session.setRoutes([]);
  };
  const resume = (): void => {
    console.log('resumed');
    session.setRoutes(routes);
  };
  process.on('SIGUSR1', pause);
  process.on('SIGUSR2', resume);
  const signal = await waitForStop().reason;
  process.off('SIGUSR1', pause);
  process.off('SIGUSR2', resume);
  await session.stop(shutdownMessage);
  console.log(`stopped ${signal}`);
  return 0;
}
