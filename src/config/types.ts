// The typed address-pool configuration. A Config is produced only by parseConfig and never
// changed afterwards: every field is readonly and the parser freezes what it returns.
import type { AddressRange } from '../net/address.js';

/**
 * How a pool's addresses are announced. `none`: allocated, announced by no node (a MetalLB
 * IPAddressPool that no advertisement selects).
 */
export type Protocol = 'layer2' | 'bgp' | 'none';

/** One requirement of a label selector, as Kubernetes defines them. */
export interface SelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values: readonly string[];
}

/** A label selector (`match-labels` and `match-expressions`, all of which must hold). */
export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly SelectorRequirement[];
}

/** A BGP community: standard (RFC 1997) or large (RFC 8092). */
export type Community =
  | { readonly kind: 'standard'; readonly value: number }
  | { readonly kind: 'large'; readonly global: number; readonly local1: number; readonly local2: number };

/** How a BGP pool's addresses become routes (MetalLB's `bgp-advertisements` entry). */
export interface BgpAdvertisement {
  /** Announce IPv4 addresses rolled up to this prefix length (32: one /32 per address). */
  readonly aggregationLength: number;
  /** Announce IPv6 addresses rolled up to this prefix length (128: one /128 per address). */
  readonly aggregationLengthV6: number;
  /** LOCAL_PREF sent to iBGP peers (RFC 4271 5.1.5); undefined sends none. */
  readonly localPref: number | undefined;
  /** Communities attached to every route of this advertisement. */
  readonly communities: readonly Community[];
  /** Names of the peers that receive these routes (empty: every peer). */
  readonly peers: readonly string[];
  /** Only nodes matching one of these send these routes (empty: every node). */
  readonly nodeSelectors: readonly LabelSelector[];
}

/** An address pool: where Service IPs come from and how they are announced. */
export interface Pool {
  readonly name: string;
  readonly protocol: Protocol;
  /** The pool's addresses, in the order written, never overlapping. */
  readonly ranges: readonly AddressRange[];
  /** Whether Services may receive an address without asking for this pool. */
  readonly autoAssign: boolean;
  /** Skip IPv4 addresses ending in .0 or .255, which some old devices drop. */
  readonly avoidBuggyIps: boolean;
  /** For BGP pools: the advertisements (one default when none is written). */
  readonly bgpAdvertisements: readonly BgpAdvertisement[];
  /** Namespaces allowed to draw from the pool (empty with no selectors: any). */
  readonly namespaces: readonly string[];
  /** Namespaces whose labels match any of these may draw from the pool. */
  readonly namespaceSelectors: readonly LabelSelector[];
  /** Services whose labels match any of these may draw from the pool. */
  readonly serviceSelectors: readonly LabelSelector[];
  /** Layer 2: interfaces to announce on (empty: the interface that routes to the address). */
  readonly interfaces: readonly string[];
  /** Nodes allowed to announce the pool's addresses (empty: all nodes). */
  readonly nodeSelectors: readonly LabelSelector[];
}

/**
 * A BFD profile, referenced by peers by name: the timers of a single-hop BFD session
 * (RFC 5880 section 6.8.1, RFC 5881). Intervals in milliseconds.
 */
export interface BfdProfile {
  readonly name: string;
  /** bfd.DesiredMinTxInterval: how often this end would like to send control packets. */
  readonly transmitInterval: number;
  /** bfd.RequiredMinRxInterval: the shortest interval between received packets it can take. */
  readonly receiveInterval: number;
  /** bfd.DetectMult: packets missed in a row before the session is declared down. */
  readonly detectMultiplier: number;
}

/** A BGP peer of the speakers. Times in seconds. */
export interface Peer {
  /** The peer's name, which advertisements refer to (a MetalLB BGPPeer's); none in vipcast's format. */
  readonly name: string | undefined;
  readonly peerAddress: string;
  readonly peerAsn: number;
  readonly myAsn: number;
  readonly peerPort: number;
  readonly holdTime: number;
  readonly keepaliveTime: number;
  readonly routerId: string | undefined;
  readonly sourceAddress: string | undefined;
  /** Only nodes matching one of these peer with this router (empty: all nodes). */
  readonly nodeSelectors: readonly LabelSelector[];
  readonly password: string | undefined;
  readonly ebgpMultihop: boolean;
  readonly bfdProfile: string | undefined;
  /** Names of the BGP pools announced to this peer (empty: every BGP pool). */
  readonly pools: readonly string[];
}

/** A whole, valid configuration. */
export interface Config {
  readonly pools: readonly Pool[];
  readonly peers: readonly Peer[];
  readonly bfdProfiles: readonly BfdProfile[];
  /** The `bgp-communities` aliases, resolved. */
  readonly communityAliases: ReadonlyMap<string, Community>;
}

/** One problem found in a config: where it is and what is wrong. */
export interface ConfigIssue {
  /** YAML path, e.g. `address-pools[1].addresses[0]` (empty for the whole document). */
  readonly path: string;
  /** 1-based line in the file, when known. */
  readonly line: number | undefined;
  readonly message: string;
}

/** The outcome of parsing: a config, or every error found; warnings either way. */
export type ParseResult =
  | { readonly ok: true; readonly config: Config; readonly warnings: readonly ConfigIssue[] }
  | { readonly ok: false; readonly errors: readonly ConfigIssue[]; readonly warnings: readonly ConfigIssue[] };

/** Formats an issue as one line: `path (line N): message`. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.path === '' ? '(document)' : issue.path;
  return issue.line === undefined ? `${where}: ${issue.message}` : `${where} (line ${issue.line}): ${issue.message}`;
}
