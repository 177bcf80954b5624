// kube-vip-cloud-provider's ConfigMap (`kube-system/kubevip`) read as a vipcast config: its
// `data` in, a frozen Config or every error out, each naming the ConfigMap key. Pure: no
// I/O, no clock. What vipcast can do exactly as kube-vip-cloud-provider did is mapped; what
// it cannot is refused with an error that says why; no key is ever ignored.
//
// kube-vip-cloud-provider gives a Service in namespace N addresses from the first of these
// keys that exists, and from that key only (an exhausted key is not followed by the next):
// cidr-N, cidr-global, range-N, range-global. vipcast expresses this with one layer-2 pool
// per key, named after the key: a namespace's pool admits only that namespace, and a global
// pool admits every namespace except those a namespace key serves, through a NotIn selector
// on the `kubernetes.io/metadata.name` label the API server puts on every namespace. A key
// that kube-vip-cloud-provider never allocates from (range-N beside cidr-global, say) stays
// a pool with auto-assign off, with a warning.
import { formatRange, rangesOverlap } from '../net/address.js';
import type { AddressRange } from '../net/address.js';
import { readAddressList } from './kube-vip-addresses.js';
import { byLine, deepFreeze } from './parse.js';
import { closest } from './suggest.js';
import type { Config, ConfigIssue, LabelSelector, ParseResult, Pool } from './types.js';
import { joinKey } from './yaml-path.js';

/** The ConfigMap kube-vip-cloud-provider reads unless its environment names another. */
export const kubeVipConfigMapRef = { namespace: 'kube-system', name: 'kubevip' } as const;

/** The label the API server sets on every namespace to its name (Kubernetes 1.21 and later). */
export const namespaceNameLabel = 'kubernetes.io/metadata.name';

/** Options for parseKubeVipConfigMap. */
export interface KubeVipParseOptions {
  /** The 1-based line of each data key in the file it was read from, when known. */
  readonly lines?: ReadonlyMap<string, number>;
}

const scopedKinds = ['allow-share', 'cidr', 'range', 'interface'] as const;
type ScopedKind = (typeof scopedKinds)[number];
const globalScope = 'global';
const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const goTrue = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const goFalse = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

/** A `<kind>-<scope>` key: scope is a namespace name or "global". */
interface ScopedKey {
  readonly key: string;
  readonly kind: ScopedKind;
  readonly scope: string;
  readonly value: string;
}

/** The addresses of one cidr- or range- key. */
interface AddressKey extends ScopedKey {
  readonly kind: 'cidr' | 'range';
  readonly ranges: readonly AddressRange[];
}

/** Collects issues, each at `data.<key>` with the key's line when known. */
class Issues {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  constructor(private readonly lines: ReadonlyMap<string, number> | undefined) {}

  error(key: string, message: string): void {
    this.errors.push(this.at(key, message));
  }

  warn(key: string, message: string): void {
    this.warnings.push(this.at(key, message));
  }

  private at(key: string, message: string): ConfigIssue {
    return { path: key === '' ? '' : joinKey('data', key), line: this.lines?.get(key), message };
  }
}

/** Parses the `data` of a kube-vip-cloud-provider ConfigMap into a frozen Config, or all errors. */
export function parseKubeVipConfigMap(data: Readonly<Record<string, string>>, options: KubeVipParseOptions = {}): ParseResult {
  const issues = new Issues(options.lines);
  const skipCidrEnds = readSettings(data, issues);
  const scoped = readScopedKeys(data, issues);
  const addressKeys = readAddressKeys(scoped, skipCidrEnds, issues);
  refuseOverlaps(addressKeys, issues);
  for (const key of scoped.filter((k) => k.kind === 'allow-share')) readAllowShare(key, issues);
  const pools = buildPools(addressKeys, scoped.filter((k) => k.kind === 'interface'), issues);
  if (issues.errors.length > 0) return { ok: false, errors: byLine(issues.errors), warnings: byLine(issues.warnings) };
  if (pools.length === 0) issues.warn('', 'no cidr- or range- key: no Service will receive an address');
  const config: Config = { pools, peers: [], bfdProfiles: [], communityAliases: new Map() };
  return { ok: true, config: deepFreeze(config), warnings: byLine(issues.warnings) };
}

/** Reads `search-order` and `skip-end-ips-in-cidr`; returns whether CIDR ends are skipped. */
function readSettings(data: Readonly<Record<string, string>>, issues: Issues): boolean {
  const order = data['search-order'];
  if (order === 'desc') {
    issues.error('search-order', 'vipcast always hands out the lowest free address of a pool and cannot search from the top ("desc"); delete the key, or set it to "asc", to migrate');
  } else if (order !== undefined && order !== 'asc') {
    issues.error('search-order', `"${order}" is not "asc" or "desc" (kube-vip-cloud-provider takes anything but "desc" as ascending)`);
  }
  const skip = data['skip-end-ips-in-cidr'];
  if (skip !== undefined && skip !== 'true' && skip !== 'false') {
    issues.error('skip-end-ips-in-cidr', `"${skip}" is not "true" or "false" (kube-vip-cloud-provider takes anything but "true" as false)`);
  }
  return skip === 'true';
}

/** Sorts the keys into scoped keys; settings are read elsewhere, anything else is an error. */
function readScopedKeys(data: Readonly<Record<string, string>>, issues: Issues): ScopedKey[] {
  const out: ScopedKey[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (key === 'search-order' || key === 'skip-end-ips-in-cidr') continue;
    const kind = scopedKinds.find((k) => key.startsWith(`${k}-`));
    if (kind === undefined) {
      issues.error(key, unknownKeyMessage(key));
      continue;
    }
    const scope = key.slice(kind.length + 1);
    if (scope !== globalScope && !dnsLabel.test(scope)) {
      issues.error(key, `"${scope}" is neither "global" nor a namespace name (lower-case letters, digits and "-", at most 63)`);
      continue;
    }
    out.push({ key, kind, scope, value });
  }
  return out;
}

function unknownKeyMessage(key: string): string {
  const shared = /^allow-shared-(.+)$/.exec(key);
  if (shared) {
    return `unknown key "${key}": kube-vip-cloud-provider reads "allow-share-${shared[1] ?? ''}", not "allow-shared-", so it never read this key either`;
  }
  const tail = key.includes('-') ? key.slice(key.indexOf('-') + 1) : globalScope;
  const best = closest(key, ['search-order', 'skip-end-ips-in-cidr', ...scopedKinds.map((k) => `${k}-${tail}`)]);
  if (best !== undefined) return `unknown key "${key}"; did you mean "${best}"?`;
  return `unknown key "${key}" (kube-vip-cloud-provider reads only cidr-, range-, allow-share- and interface- followed by a namespace or "global", search-order and skip-end-ips-in-cidr)`;
}

/** Reads the address lists of the cidr- and range- keys. */
function readAddressKeys(scoped: readonly ScopedKey[], skipCidrEnds: boolean, issues: Issues): AddressKey[] {
  const out: AddressKey[] = [];
  for (const key of scoped) {
    if (key.kind !== 'cidr' && key.kind !== 'range') continue;
    const result = readAddressList(key.value, skipCidrEnds);
    if (!result.ok) {
      for (const problem of result.problems) issues.error(key.key, problem);
      continue;
    }
    for (const note of result.notes) issues.warn(key.key, note);
    if (result.form !== key.kind) {
      const written = result.form === 'cidr' ? 'CIDRs' : 'ranges';
      issues.warn(key.key, `this ${key.kind}- key holds ${written}; they are read as ${written}, as kube-vip-cloud-provider reads them, and the key keeps its ${key.kind}- place in the lookup order`);
    }
    out.push({ ...key, kind: key.kind, ranges: result.ranges });
  }
  return out;
}

/** Two keys may not share an address: vipcast gives each address to exactly one pool. */
function refuseOverlaps(keys: readonly AddressKey[], issues: Issues): void {
  keys.forEach((key, index) => {
    for (const earlier of keys.slice(0, index)) {
      const clash = firstClash(key.ranges, earlier.ranges);
      if (clash) {
        issues.error(key.key, `${formatRange(clash[0])} overlaps ${formatRange(clash[1])} of ${earlier.key}: vipcast gives each address to one pool, so two keys cannot list the same address`);
      }
    }
  });
}

function firstClash(a: readonly AddressRange[], b: readonly AddressRange[]): [AddressRange, AddressRange] | undefined {
  for (const x of a) for (const y of b) if (rangesOverlap(x, y)) return [x, y];
  return undefined;
}

/**
 * `allow-share-<scope>: true` lets kube-vip-cloud-provider put any IPv4 Services of the
 * namespace on one address when their port numbers differ. vipcast's sharing is chosen per
 * Service instead (the same `allow-shared-ip` key on each), so `true` is refused.
 */
function readAllowShare(key: ScopedKey, issues: Issues): void {
  if (goFalse.includes(key.value)) return;
  if (goTrue.includes(key.value)) {
    const who = key.scope === globalScope ? 'in any namespace' : `in namespace ${key.scope}`;
    issues.error(key.key, `vipcast does not share addresses between all Services ${who}: Services share an address only when each carries the same "vipcast.io/allow-shared-ip" annotation (and their ports and traffic policies allow it). Annotate the Services that should share, then delete this key or set it to "false"`);
    return;
  }
  issues.error(key.key, `"${key.value}" is not true or false`);
}

/** One pool per address key, in kube-vip-cloud-provider's lookup order, with interfaces. */
function buildPools(keys: readonly AddressKey[], interfaceKeys: readonly ScopedKey[], issues: Issues): Pool[] {
  const find = (kind: 'cidr' | 'range', scope: string): AddressKey | undefined => keys.find((k) => k.kind === kind && k.scope === scope);
  const namespaces = (kind: 'cidr' | 'range'): string[] => keys.filter((k) => k.kind === kind && k.scope !== globalScope).map((k) => k.scope);
  const cidrGlobal = find('cidr', globalScope);
  const rangeGlobal = find('range', globalScope);
  const sharedPool = cidrGlobal ?? rangeGlobal;
  const ownPool = (namespace: string): AddressKey | undefined => find('cidr', namespace) ?? (cidrGlobal ? undefined : find('range', namespace));

  const interfaces = readInterfaces(interfaceKeys, issues);
  const globalInterface = interfaces.get(globalScope);
  for (const [namespace, name] of interfaces) {
    if (namespace === globalScope || ownPool(namespace)) continue;
    const key = `interface-${namespace}`;
    if (!sharedPool) issues.warn(key, `no key gives namespace ${namespace} addresses, so this interface is never used`);
    else if (name !== globalInterface) {
      const inForce = globalInterface === undefined ? 'none' : `"${globalInterface}" from interface-global`;
      issues.error(key, `namespace ${namespace} takes its addresses from ${sharedPool.key}, which other namespaces share, and vipcast sets one interface per pool (this one's: ${inForce}); give namespace ${namespace} its own cidr-${namespace} key, or delete this one`);
    }
  }

  const ordered = [
    ...keys.filter((k) => k.kind === 'cidr' && k.scope !== globalScope),
    ...(cidrGlobal ? [cidrGlobal] : []),
    ...keys.filter((k) => k.kind === 'range' && k.scope !== globalScope),
    ...(rangeGlobal ? [rangeGlobal] : []),
  ];
  const pools = ordered.map((key) => {
    const global = key.scope === globalScope;
    const winner = global ? (key === rangeGlobal ? cidrGlobal : undefined) : ownPool(key.scope) === key ? undefined : (find('cidr', key.scope) ?? cidrGlobal);
    if (winner) {
      const who = global ? 'every namespace' : `namespace ${key.scope}`;
      issues.warn(key.key, `kube-vip-cloud-provider never allocates from this key: ${who} takes addresses from ${winner.key} first (cidr- keys before range- keys, a namespace's own before global). It stays a pool with auto-assign off: only Services that ask for its addresses, or for pool "${key.key}", get them. Delete it if it is a leftover`);
    }
    const excluded = global ? [...namespaces('cidr'), ...(key.kind === 'range' ? namespaces('range') : [])] : [];
    const iface = global ? globalInterface : (interfaces.get(key.scope) ?? globalInterface);
    return layer2Pool(key, winner === undefined, global ? [] : [key.scope], excluded, iface);
  });
  if (globalInterface !== undefined && !pools.some((p) => p.interfaces.includes(globalInterface))) {
    issues.warn('interface-global', 'no pool uses this interface: every address key belongs to a namespace with an interface of its own, or there is none');
  }
  return pools;
}

/** Reads the interface- keys: namespace (or "global") → interface name. */
function readInterfaces(keys: readonly ScopedKey[], issues: Issues): Map<string, string> {
  const out = new Map<string, string>();
  for (const key of keys) {
    const name = key.value.trim();
    // Linux IFNAMSIZ is 16 including the terminating NUL; no "/", whitespace or ":".
    if (name.length === 0 || name.length > 15 || /[\s/:,]/.test(name)) {
      issues.error(key.key, `"${key.value}" is not an interface name (1 to 15 characters, no spaces, ",", "/" or ":")`);
    } else out.set(key.scope, name);
  }
  return out;
}

function layer2Pool(key: AddressKey, autoAssign: boolean, namespaces: string[], excluded: readonly string[], iface: string | undefined): Pool {
  const namespaceSelectors: LabelSelector[] =
    excluded.length === 0 ? [] : [{ matchLabels: {}, matchExpressions: [{ key: namespaceNameLabel, operator: 'NotIn', values: [...new Set(excluded)].sort() }] }];
  return {
    name: key.key,
    protocol: 'layer2',
    ranges: key.ranges,
    autoAssign,
    // kube-vip-cloud-provider never hands out an IPv4 address ending in .0 or .255.
    avoidBuggyIps: true,
    bgpAdvertisements: [],
    namespaces,
    namespaceSelectors,
    serviceSelectors: [],
    interfaces: iface === undefined ? [] : [iface],
    nodeSelectors: [],
  };
}
