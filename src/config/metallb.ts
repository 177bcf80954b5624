// MetalLB's custom resources (group metallb.io) read as a vipcast config: IPAddressPool,
// L2Advertisement, BGPAdvertisement, BGPPeer, BFDProfile and Community objects in, a frozen
// Config or every error out, each naming the object (`IPAddressPool/public`) and the field
// (`.spec.addresses[0]`). Pure: the objects come from a file (check-config, with lines) or
// from the API server (the programs), as YAML node trees read by the same Reader as
// vipcast's own format, so both formats share every rule about addresses, selectors,
// communities, timers and BFD.
//
// MetalLB's meaning, in vipcast's terms: an IPAddressPool is a pool; the advertisements that
// select it say how it is announced. A pool no advertisement selects hands out addresses
// and announces none (protocol `none`). L2Advertisements of a pool become its node
// selectors and interfaces; BGPAdvertisements become its advertisements, each keeping its
// own peers and node selectors. What vipcast cannot do exactly is refused, naming the field.
import type { AddressRange } from '../net/address.js';
import { metalLbGroup, metalLbKinds, readSpec, topKeys } from './metallb-objects.js';
import type { MetalLbKind, MetalLbObject, MetalLbReadOptions } from './metallb-objects.js';
import { readBgpPeers, readBfdProfileObjects, readCommunityObjects } from './metallb-peers.js';
import { byLine, checkAggregation, deepFreeze, readCommunityList, readInterfaces, readNamespaces, readRanges } from './parse.js';
import { anySelectorMatches, readSelectors } from './selector.js';
import { canonical, refuseRepeats } from './duplicates.js';
import { didYouMean } from './suggest.js';
import type { BgpAdvertisement, Community, Config, LabelSelector, ParseResult, Pool } from './types.js';
import type { Field, Reader } from './yaml-reader.js';

const poolKeys = ['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation'] as const;
const allocationKeys = ['priority', 'namespaces', 'namespaceSelectors', 'serviceSelectors'] as const;
const selectionKeys = ['ipAddressPools', 'ipAddressPoolSelectors', 'nodeSelectors'] as const;
const l2Keys = [...selectionKeys, 'interfaces'] as const;
const bgpAdKeys = [...selectionKeys, 'aggregationLength', 'aggregationLengthV6', 'localPref', 'communities', 'peers'] as const;

/** An IPAddressPool as read, before its advertisements are known. */
interface PoolObject {
  readonly object: MetalLbObject;
  readonly ranges: readonly AddressRange[];
  readonly autoAssign: boolean;
  readonly avoidBuggyIps: boolean;
  readonly priority: number | undefined;
  readonly namespaces: readonly string[];
  readonly namespaceSelectors: readonly LabelSelector[];
  readonly serviceSelectors: readonly LabelSelector[];
}

/** Which pools an advertisement selects: by name, by label, or (neither written) all. */
interface Selection {
  readonly object: MetalLbObject;
  readonly pools: ReadonlySet<string>;
  readonly nodeSelectors: readonly LabelSelector[];
}

interface L2Object extends Selection {
  readonly interfaces: readonly string[];
}

interface BgpAdObject extends Selection {
  readonly spec: Field;
  readonly entries: ReadonlyMap<string, Field>;
}

/**
 * Reads the objects into a Config; every problem goes to the reader. The objects must all
 * be of one namespace (the caller chose them so).
 */
export function readMetalLbObjects(r: Reader, objects: readonly MetalLbObject[], options: MetalLbReadOptions): Config {
  const kept = checkObjects(r, objects);
  const of = (kind: MetalLbKind): MetalLbObject[] => kept.filter((o) => o.kind === kind);
  const aliases = readCommunityObjects(r, of('Community'));
  const bfdProfiles = readBfdProfileObjects(r, of('BFDProfile'));
  const poolObjects = readPoolObjects(r, of('IPAddressPool'));
  const l2 = of('L2Advertisement').flatMap((o) => readL2Advertisement(r, o, poolObjects) ?? []);
  const bgp = of('BGPAdvertisement').flatMap((o) => readSelection(r, o, poolObjects, bgpAdKeys, 'a BGPAdvertisement spec') ?? []);
  const peers = readBgpPeers(r, of('BGPPeer'), bfdProfiles, options);
  const peerNames = new Set(peers.map((p) => p.name ?? ''));
  const pools = poolObjects.flatMap((pool) => assemblePool(r, pool, l2, bgp, aliases, peerNames) ?? []);
  return { pools: inPriorityOrder(pools, poolObjects), peers, bfdProfiles, communityAliases: aliases };
}

/** Parses objects already split out of their source; the result is frozen. */
export function metalLbResult(r: Reader, objects: readonly MetalLbObject[], options: MetalLbReadOptions): ParseResult {
  const config = readMetalLbObjects(r, objects, options);
  if (r.errors.length > 0) return { ok: false, errors: byLine(r.errors), warnings: byLine(r.warnings) };
  if (config.pools.length === 0) r.warn({ path: '', node: undefined }, 'no IPAddressPool: no Service will receive an address');
  if (config.pools.some((p) => p.protocol === 'bgp') && config.peers.length === 0) {
    r.warn({ path: '', node: undefined }, 'BGPAdvertisements select pools but there is no BGPPeer: their addresses will not be announced');
  }
  return { ok: true, config: deepFreeze(config), warnings: byLine(r.warnings) };
}

/** Top-level keys, versions and unique names; returns the objects worth reading further. */
function checkObjects(r: Reader, objects: readonly MetalLbObject[]): MetalLbObject[] {
  const kept: MetalLbObject[] = [];
  const seen = new Set<string>();
  for (const object of objects) {
    const versions: readonly string[] = metalLbKinds[object.kind];
    const version = object.apiVersion.startsWith(`${metalLbGroup}/`) ? object.apiVersion.slice(metalLbGroup.length + 1) : undefined;
    if (version === undefined || !versions.includes(version)) {
      const served = versions.map((v) => `${metalLbGroup}/${v}`).join(' or ');
      r.error(object.root, `${object.kind} "${object.name}" has apiVersion "${object.apiVersion}"; MetalLB serves ${object.kind} as ${served}`);
      continue;
    }
    if (r.map(object.root, topKeys, `a ${object.kind}`) === undefined) continue;
    const id = `${object.kind}/${object.name}`;
    if (seen.has(id)) {
      r.error(object.root, `${id} appears twice`);
      continue;
    }
    seen.add(id);
    kept.push(object);
  }
  return kept;
}

function readPoolObjects(r: Reader, objects: readonly MetalLbObject[]): PoolObject[] {
  const placed: { range: AddressRange; path: string; pool: string }[] = [];
  const out: PoolObject[] = [];
  for (const object of objects) {
    const read = readSpec(r, object, poolKeys, 'an IPAddressPool spec');
    if (!read) continue;
    const { spec, entries } = read;
    const errorsBefore = r.errors.length;
    const ranges = readRanges(r, entries.get('addresses'), spec, object.name, placed);
    const flag = (key: string, fallback: boolean): boolean => {
      const f = entries.get(key);
      return (f && r.boolean(f, key)) ?? fallback;
    };
    const allocationField = entries.get('serviceAllocation');
    const allocation = allocationField ? r.map(allocationField, allocationKeys, 'serviceAllocation') : undefined;
    const priorityField = allocation?.get('priority');
    const selectors = (key: string): LabelSelector[] => {
      const f = allocation?.get(key);
      return f ? readSelectors(r, f, key, 'camel') : [];
    };
    const namespaces = readNamespaces(r, allocation?.get('namespaces'));
    const namespaceSelectors = selectors('namespaceSelectors');
    let serviceSelectors = selectors('serviceSelectors');
    // MetalLB: a serviceAllocation that names no namespace and no selector (priority alone)
    // matches every Service, and the pool is tried with the other reserved pools, by
    // priority, before pools without one. A selector of nothing says exactly that.
    if (allocation && namespaces.length === 0 && namespaceSelectors.length === 0 && serviceSelectors.length === 0) {
      serviceSelectors = [{ matchLabels: {}, matchExpressions: [] }];
    }
    const pool: PoolObject = {
      object,
      ranges,
      autoAssign: flag('autoAssign', true),
      avoidBuggyIps: flag('avoidBuggyIPs', false),
      priority: priorityField && r.integer(priorityField, 'priority', 0, 2_147_483_647),
      namespaces,
      namespaceSelectors,
      serviceSelectors,
    };
    if (r.errors.length === errorsBefore) out.push(pool);
  }
  return out;
}

/**
 * The pools an advertisement selects. MetalLB: pools named in ipAddressPools, and pools whose
 * labels match any of ipAddressPoolSelectors; with neither written, every pool.
 */
function readSelection(
  r: Reader,
  object: MetalLbObject,
  pools: readonly PoolObject[],
  known: readonly string[],
  what: string,
): BgpAdObject | undefined {
  const read = readSpec(r, object, known, what);
  if (!read) return undefined;
  const { spec, entries } = read;
  const errorsBefore = r.errors.length;
  const namesField = entries.get('ipAddressPools');
  const selectorsField = entries.get('ipAddressPoolSelectors');
  const nameItems = namesField ? r.stringItems(namesField, 'ipAddressPools') : [];
  const names = refuseRepeats(r, nameItems, (v) => v, (v) => `IPAddressPool "${v}"`);
  for (const { field, value } of names) {
    // MetalLB skips a name no pool has (the pool may come later); vipcast says so.
    if (!pools.some((p) => p.object.name === value)) {
      r.warn(field, `IPAddressPool "${value}" does not exist: this name selects nothing until it does${didYouMean(value, pools.map((p) => p.object.name))}`);
    }
  }
  const poolSelectors = selectorsField ? readSelectors(r, selectorsField, 'ipAddressPoolSelectors', 'camel') : [];
  // As MetalLB: both lists empty (or absent) select every pool; otherwise what they match.
  const everyPool = nameItems.length === 0 && poolSelectors.length === 0;
  const selected = new Set<string>();
  for (const pool of pools) {
    const byName = names.some((n) => n.value === pool.object.name);
    const byLabel = poolSelectors.some((s) => anySelectorMatches([s], pool.object.labels));
    if (byName || byLabel || everyPool) selected.add(pool.object.name);
  }
  if (selected.size === 0 && !everyPool && r.errors.length === errorsBefore) {
    r.warn(namesField ?? selectorsField ?? spec, `${object.kind} "${object.name}" selects no IPAddressPool, so it announces nothing`);
  }
  const nodesField = entries.get('nodeSelectors');
  const nodeSelectors = nodesField ? readSelectors(r, nodesField, 'nodeSelectors', 'camel') : [];
  if (r.errors.length > errorsBefore) return undefined;
  return { object, pools: selected, nodeSelectors, spec, entries };
}

function readL2Advertisement(r: Reader, object: MetalLbObject, pools: readonly PoolObject[]): L2Object | undefined {
  const selection = readSelection(r, object, pools, l2Keys, 'an L2Advertisement spec');
  if (!selection) return undefined;
  const interfacesField = selection.entries.get('interfaces');
  const interfaces = interfacesField ? readInterfaces(r, interfacesField) : [];
  return { object, pools: selection.pools, nodeSelectors: selection.nodeSelectors, interfaces };
}

/** One pool with the advertisements that select it, or undefined after an error. */
function assemblePool(
  r: Reader,
  pool: PoolObject,
  l2: readonly L2Object[],
  bgp: readonly BgpAdObject[],
  aliases: ReadonlyMap<string, Community>,
  peerNames: ReadonlySet<string>,
): Pool | undefined {
  const name = pool.object.name;
  const mine = <T extends Selection>(list: readonly T[]): T[] => list.filter((ad) => ad.pools.has(name));
  const layer2 = mine(l2);
  const routes = mine(bgp);
  const base = {
    name,
    ranges: pool.ranges,
    autoAssign: pool.autoAssign,
    avoidBuggyIps: pool.avoidBuggyIps,
    namespaces: pool.namespaces,
    namespaceSelectors: pool.namespaceSelectors,
    serviceSelectors: pool.serviceSelectors,
  };
  if (layer2.length > 0 && routes.length > 0) {
    const a = layer2[0]?.object.name ?? '';
    const b = routes[0]?.object.name ?? '';
    r.error(pool.object.root, `IPAddressPool "${name}" is selected by L2Advertisement "${a}" and by BGPAdvertisement "${b}"; vipcast announces a pool in one mode only: split its addresses into two pools`);
    return undefined;
  }
  if (layer2.length > 0) {
    const merged = mergeLayer2(r, pool, layer2);
    return merged && { ...base, protocol: 'layer2', bgpAdvertisements: [], ...merged };
  }
  if (routes.length > 0) {
    const advertisements = routes.flatMap((ad) => readBgpAdvertisement(r, ad, pool.ranges, aliases, peerNames) ?? []);
    if (advertisements.length !== routes.length) return undefined;
    return { ...base, protocol: 'bgp', bgpAdvertisements: dedupe(advertisements), interfaces: [], nodeSelectors: [] };
  }
  r.warn(pool.object.root, `IPAddressPool "${name}" is selected by no L2Advertisement or BGPAdvertisement: its addresses are handed out but not announced (as in MetalLB)`);
  return { ...base, protocol: 'none', bgpAdvertisements: [], interfaces: [], nodeSelectors: [] };
}

/**
 * The node selectors and interfaces of a pool's L2Advertisements. An advertisement with no
 * node selectors takes every node, and one with no interfaces every interface. vipcast
 * keeps one interface list per pool, so advertisements that give different nodes
 * different interfaces are refused.
 */
function mergeLayer2(r: Reader, pool: PoolObject, ads: readonly L2Object[]): { nodeSelectors: LabelSelector[]; interfaces: string[] } | undefined {
  const anyNode = ads.some((ad) => ad.nodeSelectors.length === 0);
  const anyInterface = ads.some((ad) => ad.interfaces.length === 0);
  const nodeSelectors = anyNode ? [] : uniqueSelectors(ads.flatMap((ad) => ad.nodeSelectors));
  const interfaces = anyInterface ? [] : [...new Set(ads.flatMap((ad) => ad.interfaces))];
  const sameNodes = new Set(ads.map((ad) => selectorsKey(ad.nodeSelectors))).size === 1;
  const sameInterfaces = new Set(ads.map((ad) => [...ad.interfaces].sort().join(','))).size === 1;
  if (!sameNodes && !sameInterfaces) {
    const [a, b] = ads;
    r.error(
      pool.object.root,
      `IPAddressPool "${pool.object.name}" is selected by L2Advertisements "${a?.object.name ?? ''}" and "${b?.object.name ?? ''}", which differ in both nodeSelectors and interfaces; vipcast announces a pool on one set of interfaces: give them the same interfaces or the same nodeSelectors`,
    );
    return undefined;
  }
  return { nodeSelectors, interfaces };
}

function readBgpAdvertisement(
  r: Reader,
  ad: BgpAdObject,
  ranges: readonly AddressRange[],
  aliases: ReadonlyMap<string, Community>,
  peerNames: ReadonlySet<string>,
): BgpAdvertisement | undefined {
  const errorsBefore = r.errors.length;
  const { entries } = ad;
  const length = (key: string, family: AddressRange['family'], max: number): number => {
    const f = entries.get(key);
    const value = f && r.integer(f, key, 0, max);
    if (f && value !== undefined) checkAggregation(r, f, key, value, ranges.filter((range) => range.family === family));
    return value ?? max;
  };
  const prefField = entries.get('localPref');
  const communitiesField = entries.get('communities');
  const peersField = entries.get('peers');
  const peerItems = refuseRepeats(r, peersField ? r.stringItems(peersField, 'peers') : [], (v) => v, (v) => `BGPPeer "${v}"`);
  for (const { field, value } of peerItems) {
    // MetalLB does not check these names; a name no peer has sends these routes nowhere.
    if (!peerNames.has(value)) r.warn(field, `BGPPeer "${value}" does not exist: these routes go to no peer of that name until it does${didYouMean(value, [...peerNames])}`);
  }
  const advertisement: BgpAdvertisement = {
    aggregationLength: length('aggregationLength', 'IPv4', 32),
    aggregationLengthV6: length('aggregationLengthV6', 'IPv6', 128),
    localPref: prefField && r.integer(prefField, 'localPref', 0, 4_294_967_295),
    communities: communitiesField ? readCommunityList(r, communitiesField, aliases, 'a Community object') : [],
    peers: peerItems.map((p) => p.value).sort(),
    nodeSelectors: ad.nodeSelectors,
  };
  return r.errors.length === errorsBefore ? advertisement : undefined;
}

/** Advertisements that say the same thing (from two objects) are one. */
function dedupe(ads: readonly BgpAdvertisement[]): BgpAdvertisement[] {
  const seen = new Map<string, BgpAdvertisement>();
  for (const ad of ads) seen.set(canonical(ad), ad);
  return [...seen.values()];
}

function selectorsKey(selectors: readonly LabelSelector[]): string {
  return selectors.map((s) => canonical(s)).sort().join('|');
}

function uniqueSelectors(selectors: readonly LabelSelector[]): LabelSelector[] {
  const seen = new Map<string, LabelSelector>();
  for (const s of selectors) seen.set(canonical(s), s);
  return [...seen.values()];
}

/**
 * Pools in the order the allocator tries them: MetalLB's serviceAllocation priority, lowest
 * positive number first, pools without one (or with 0, which MetalLB reads as unset) after
 * those with one, then by name.
 */
function inPriorityOrder(pools: readonly Pool[], objects: readonly PoolObject[]): Pool[] {
  const priority = new Map(objects.map((o) => [o.object.name, o.priority === undefined || o.priority === 0 ? Number.POSITIVE_INFINITY : o.priority]));
  const rank = (p: Pool): number => priority.get(p.name) ?? Number.POSITIVE_INFINITY;
  return [...pools].sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
