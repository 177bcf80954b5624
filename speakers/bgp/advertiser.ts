// What to tell one peer: the desired host routes diffed against what it was last sent, packed
// into as few UPDATE messages as fit (IPv4 in the classic fields, IPv6 in MP_REACH/MP_UNREACH).
import {
  Afi,
  Safi,
  encodeAttributes,
  encodeMessage,
  encodePrefixes,
  endOfRib,
  type AddressFamily,
  type PathAttributes,
  type Prefix,
  type UpdateMessage,
} from './codec/index.js';

/** One route we announce: a host prefix, its next hop and communities (RFC 4271 5.1, RFC 1997, RFC 8092). */
export interface Route {
  /** The prefix; /32 and /128 for a VIP, but any length is encoded. */
  readonly prefix: Prefix;
  /** Next hop in the prefix's own family (RFC 4271 section 5.1.3, RFC 2545 section 3). */
  readonly nextHop: string;
  /** COMMUNITIES values as uint32 (RFC 1997). */
  readonly communities?: readonly number[];
  /** LARGE_COMMUNITY triples (RFC 8092 section 3). */
  readonly largeCommunities?: readonly (readonly [number, number, number])[];
  /** LOCAL_PREF; sent to internal peers only (RFC 4271 section 5.1.5). */
  readonly localPref?: number;
}

/** Facts about the peer that shape the attributes (RFC 4271 section 5.1.2 and 5.1.5). */
export interface PeerContext {
  /** Our ASN, prepended on eBGP (RFC 4271 section 5.1.2). */
  readonly myAsn: number;
  /** True when the peer is in another AS. */
  readonly external: boolean;
  /** Address families the peer accepts (RFC 4760 section 8); routes of other families are held back. */
  readonly families: ReadonlySet<AddressFamily>;
  /** Largest message the peer accepts (RFC 4271 section 4.1; RFC 8654). */
  readonly maxMessageLength?: number;
}

/** Key of a route in the table: family, address and length. */
export function routeKey(prefix: Prefix): string {
  return `${prefix.address}/${prefix.length}`;
}

/** The path attributes one route is sent with, next hop aside (RFC 4271 section 5.1). */
function attributesOf(route: Route, peer: PeerContext): PathAttributes {
  const a: { -readonly [K in keyof PathAttributes]: PathAttributes[K] } = {
    origin: 'igp',
    asPath: peer.external ? [{ type: 'sequence', asns: [peer.myAsn] }] : [],
  };
  if (!peer.external) a.localPref = route.localPref ?? 100;
  if (route.communities && route.communities.length > 0) a.communities = [...route.communities].sort((x, y) => x - y);
  if (route.largeCommunities && route.largeCommunities.length > 0) a.largeCommunities = route.largeCommunities;
  return a;
}

/** A string equal for two routes exactly when they can share one UPDATE: family, next hop and attributes. */
function groupKey(route: Route, peer: PeerContext): string {
  const communities = route.communities && route.communities.length > 0 ? [...route.communities].sort((x, y) => x - y).join(',') : '';
  const large = route.largeCommunities?.map((c) => c.join(':')).join(',') ?? '';
  const localPref = peer.external ? '' : String(route.localPref ?? 100);
  return `${route.prefix.family}|${route.nextHop}|${communities}|${large}|${localPref}`;
}

/** Splits prefixes so each chunk's encoding fits `budget` octets. */
function chunk(prefixes: readonly Prefix[], budget: number): Prefix[][] {
  const out: Prefix[][] = [];
  let current: Prefix[] = [];
  let used = 0;
  for (const p of prefixes) {
    const size = 1 + Math.ceil(p.length / 8);
    if (used + size > budget && current.length > 0) {
      out.push(current);
      current = [];
      used = 0;
    }
    current.push(p);
    used += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

const HEADER_AND_LENGTHS = 19 + 4;
/** Room for an MP attribute's extended length and AFI/SAFI/next-hop fields. */
const MP_OVERHEAD = 4 + 3 + 1 + 32 + 1;

/** Builds UPDATEs announcing routes, grouping equal attributes and packing each message to the limit (RFC 4271 4.3, RFC 4760 3). */
export function announcements(routes: readonly Route[], peer: PeerContext): UpdateMessage[] {
  return announceGrouped(
    routes.map((route) => ({ route, group: groupKey(route, peer) })),
    peer,
  );
}

/** announcements() for routes whose group keys are already known. */
function announceGrouped(routes: readonly { route: Route; group: string }[], peer: PeerContext): UpdateMessage[] {
  const max = peer.maxMessageLength ?? 4096;
  const groups = new Map<string, Route[]>();
  for (const { route, group } of routes) {
    if (!peer.families.has(route.prefix.family)) continue;
    const list = groups.get(group);
    if (list) list.push(route);
    else groups.set(group, [route]);
  }
  const out: UpdateMessage[] = [];
  for (const list of groups.values()) {
    const first = list[0];
    if (!first) continue;
    const base = attributesOf(first, peer);
    const prefixes = list.map((r) => r.prefix);
    if (first.prefix.family === 'ipv4') {
      const attributes: PathAttributes = { ...base, nextHop: first.nextHop };
      const budget = max - HEADER_AND_LENGTHS - encodeAttributes(attributes, {}).length;
      for (const nlri of chunk(prefixes, budget)) out.push({ type: 'update', withdrawn: [], attributes, nlri });
    } else {
      const budget = max - HEADER_AND_LENGTHS - encodeAttributes(base, {}).length - MP_OVERHEAD;
      for (const nlri of chunk(prefixes, budget)) {
        out.push({ type: 'update', withdrawn: [], attributes: { ...base, mpReach: { afi: Afi.IPv6, safi: Safi.Unicast, nextHop: first.nextHop, nlri } }, nlri: [] });
      }
    }
  }
  return out;
}

/** Builds UPDATEs withdrawing prefixes, as many per message as fit (RFC 4271 4.3, RFC 4760 4). */
export function withdrawals(prefixes: readonly Prefix[], peer: PeerContext): UpdateMessage[] {
  const max = peer.maxMessageLength ?? 4096;
  const out: UpdateMessage[] = [];
  const v4 = prefixes.filter((p) => p.family === 'ipv4' && peer.families.has('ipv4'));
  const v6 = prefixes.filter((p) => p.family === 'ipv6' && peer.families.has('ipv6'));
  for (const withdrawn of chunk(v4, max - HEADER_AND_LENGTHS)) out.push({ type: 'update', withdrawn, attributes: {}, nlri: [] });
  for (const w of chunk(v6, max - HEADER_AND_LENGTHS - MP_OVERHEAD)) {
    out.push({ type: 'update', withdrawn: [], attributes: { mpUnreach: { afi: Afi.IPv6, safi: Safi.Unicast, withdrawn: w } }, nlri: [] });
  }
  return out;
}

/** The End-of-RIB markers for the families the peer accepts (RFC 4724 section 2). */
export function endOfRibMarkers(peer: PeerContext): UpdateMessage[] {
  const out: UpdateMessage[] = [];
  if (peer.families.has('ipv4')) out.push(endOfRib({ afi: Afi.IPv4, safi: Safi.Unicast }));
  if (peer.families.has('ipv6')) out.push(endOfRib({ afi: Afi.IPv6, safi: Safi.Unicast }));
  return out;
}

/**
 * Per-peer Adj-RIB-Out: remembers what the peer was sent and turns a new desired set into the
 * UPDATEs that bring the peer in line (RFC 4271 section 3.2 and 9.2).
 */
export class AdjRibOut {
  #sent = new Map<string, { route: Route; group: string }>();

  /** Number of routes the peer currently has from us. */
  get size(): number {
    return this.#sent.size;
  }

  /** Forgets everything sent, e.g. when the session goes down (RFC 4271 section 9.2). */
  clear(): void {
    this.#sent.clear();
  }

  /** Returns the UPDATEs that move the peer from what it has to `desired`: withdrawals first, then changed or new routes. */
  sync(desired: readonly Route[], peer: PeerContext): UpdateMessage[] {
    const want = new Map<string, { route: Route; group: string }>();
    for (const route of desired) {
      if (peer.families.has(route.prefix.family)) want.set(routeKey(route.prefix), { route, group: groupKey(route, peer) });
    }
    const gone: Prefix[] = [];
    for (const [key, old] of this.#sent) if (!want.has(key)) gone.push(old.route.prefix);
    const changed: { route: Route; group: string }[] = [];
    for (const [key, now] of want) if (this.#sent.get(key)?.group !== now.group) changed.push(now);
    this.#sent = want;
    return [...withdrawals(gone, peer), ...announceGrouped(changed, peer)];
  }

  /** Returns UPDATEs announcing everything the peer should have again, for ROUTE-REFRESH (RFC 2918 section 4). */
  resend(peer: PeerContext): UpdateMessage[] {
    return announceGrouped([...this.#sent.values()], peer);
  }

  /** Withdraws everything and forgets it, e.g. before an administrative shutdown. */
  withdrawAll(peer: PeerContext): UpdateMessage[] {
    return this.sync([], peer);
  }
}

/**
 * Encodes every route once, as for an external peer taking both families, and throws the
 * BgpEncodeError of the first that cannot go on the wire; a bad route is refused before any
 * session starts (and the encoder is warm when the first peer comes up).
 */
export function checkRoutes(routes: readonly Route[], myAsn: number): void {
  const peer: PeerContext = { myAsn, external: true, families: new Set(['ipv4', 'ipv6']) };
  const placeholder = { ipv4: '192.0.2.1', ipv6: '2001:db8::1' } as const;
  const filled = routes.map((r) => (r.nextHop === '' ? { ...r, nextHop: placeholder[r.prefix.family] } : r));
  for (const m of [...announcements(filled, peer), ...withdrawals(filled.map((r) => r.prefix), peer)]) encodeMessage(m, { fourOctetAs: true });
}

/** Checks that a prefix encodes, so a bad one is rejected before the session starts (RFC 4271 section 4.3). */
export function checkPrefix(prefix: Prefix): void {
  encodePrefixes([prefix], prefix.family);
}
