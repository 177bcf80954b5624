// The one config parser: YAML text in, a frozen Config or every error out. The controller,
// the speakers and `vipcast check-config` all call this, so they always agree.
import { formatRange, rangeToCidrs, rangesOverlap } from '../net/address.js';
import type { AddressRange } from '../net/address.js';
import type { BgpAdvertisement, Community, Config, ConfigIssue, ParseResult, Pool, Protocol } from './types.js';
import { formatCommunity, parseCommunity, wellKnownCommunities } from './community.js';
import { canonical, refuseRepeats } from './duplicates.js';
import { readBfdProfiles } from './parse-bfd.js';
import { readPeers } from './parse-peers.js';
import { parsePoolAddress } from './pool-address.js';
import { readSelectors } from './selector.js';
import { didYouMean } from './suggest.js';
import { parseYaml } from './yaml-reader.js';
import type { Field, Reader } from './yaml-reader.js';

const topKeys = ['address-pools', 'peers', 'bgp-communities', 'bfd-profiles'] as const;
const poolKeys = [
  'name', 'protocol', 'addresses', 'auto-assign', 'avoid-buggy-ips', 'bgp-advertisements',
  'namespaces', 'namespace-selectors', 'service-selectors', 'interfaces', 'node-selectors',
] as const;
/** Spellings of MetalLB's first releases (0.2 to 0.4), still read, with a warning. */
const oldTopKeys = ['communities', 'protocol'] as const;
const oldPoolKeys = { cidr: 'addresses', advertisements: 'bgp-advertisements' } as const;
const advertisementKeys = ['aggregation-length', 'aggregation-length-v6', 'localpref', 'communities'] as const;
const protocols: readonly Protocol[] = ['layer2', 'bgp'];
const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Options for parseConfig. */
export interface ParseOptions {
  /**
   * Lines to add to every reported line, when the config text starts inside a larger file
   * (a ConfigMap's block scalar); undefined when its lines cannot be mapped to the file.
   */
  readonly lineOffset?: number | undefined;
}

/** Parses and validates a config, returning it frozen, or all errors with paths and lines. */
export function parseConfig(text: string, options: ParseOptions = {}): ParseResult {
  const lineOffset = 'lineOffset' in options ? options.lineOffset : 0;
  const { reader: r, root } = parseYaml(text, lineOffset);
  if (r.errors.length > 0) return { ok: false, errors: r.errors, warnings: r.warnings };

  const top = r.map(root, [...topKeys, ...oldTopKeys], 'the config') ?? new Map<string, Field>();
  renameOldKey(r, top, 'communities', 'bgp-communities');
  const defaultProtocolField = top.get('protocol');
  if (defaultProtocolField) r.warn({ path: 'protocol', node: defaultProtocolField.keyNode },  `"protocol" at the top level is MetalLB's oldest spelling; write it in each pool`);
  const field = (key: string): Field => top.get(key) ?? { path: key, node: undefined };

  const communityAliases = readCommunityAliases(r, field('bgp-communities'));
  const bfdProfiles = readBfdProfiles(r, field('bfd-profiles'));
  const pools = readPools(r, field('address-pools'), communityAliases, defaultProtocolField);
  const peers = readPeers(r, field('peers'), bfdProfiles, pools);

  if (r.errors.length > 0) return { ok: false, errors: byLine(r.errors), warnings: byLine(r.warnings) };
  if (pools.length === 0) r.warn(field('address-pools'), 'no address pools: no Service will receive an address');
  if (pools.some((p) => p.protocol === 'bgp') && peers.length === 0) {
    r.warn(field('peers'), 'there are bgp pools but no peers: their addresses will not be announced');
  }
  const config: Config = { pools, peers, bfdProfiles, communityAliases };
  return { ok: true, config: deepFreeze(config), warnings: byLine(r.warnings) };
}

/** Issues in file order (those without a line keep their place at the end). */
export function byLine(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
}

function readCommunityAliases(r: Reader, field: Field): Map<string, Community> {
  const out = new Map<string, Community>();
  for (const [alias, entry] of r.anyMap(field, 'bgp-communities') ?? []) {
    const text = r.string(entry.value, `community "${alias}"`);
    if (text === undefined) continue;
    const parsed = parseCommunity(text.trim());
    if (typeof parsed === 'string') r.error(entry.value, parsed);
    else out.set(alias, parsed);
  }
  return out;
}

/**
 * Reads a key under its old MetalLB name as if written under the new one, with a warning;
 * both at once is an error.
 */
function renameOldKey(r: Reader, entries: Map<string, Field>, oldKey: string, newKey: string): void {
  const old = entries.get(oldKey);
  if (!old) return;
  entries.delete(oldKey);
  const atKey: Field = { path: old.path, node: old.keyNode ?? old.node };
  if (entries.has(newKey)) {
    r.error(atKey, `"${oldKey}" is MetalLB's old name for "${newKey}"; write only "${newKey}"`);
    return;
  }
  r.warn(atKey, `"${oldKey}" is MetalLB's old name for "${newKey}"; it still works, but write "${newKey}"`);
  entries.set(newKey, old);
}

function readPools(r: Reader, field: Field, aliases: ReadonlyMap<string, Community>, defaultProtocol: Field | undefined): Pool[] {
  const pools: Pool[] = [];
  const names = new Map<string, string>();
  const placed: { range: AddressRange; path: string; pool: string }[] = [];
  for (const item of r.list(field, 'address-pools')) {
    const entries = r.map(item, [...poolKeys, ...Object.keys(oldPoolKeys)], 'an address pool');
    if (!entries) continue;
    const errorsBefore = r.errors.length;
    for (const [oldKey, newKey] of Object.entries(oldPoolKeys)) renameOldKey(r, entries, oldKey, newKey);

    const nameField = entries.get('name');
    const name = nameField && r.string(nameField, 'name');
    if (!nameField) r.error(item, 'an address pool needs a "name"');
    else if (name !== undefined && names.has(name)) r.error(nameField, `pool name "${name}" is used twice (also at ${names.get(name)})`);
    else if (name !== undefined) names.set(name, item.path);

    const protocolField = entries.get('protocol') ?? defaultProtocol;
    const protocolText = protocolField && r.string(protocolField, 'protocol');
    const protocol = protocols.find((p) => p === protocolText);
    if (!protocolField) r.error(item, 'an address pool needs a "protocol" (layer2 or bgp)');
    else if (protocolText !== undefined && !protocol) {
      r.error(protocolField, `unknown protocol "${protocolText}" (layer2 or bgp)${didYouMean(protocolText, protocols)}`);
    }

    const ranges = readRanges(r, entries.get('addresses'), item, name ?? item.path, placed);
    const flag = (key: string, fallback: boolean): boolean => {
      const f = entries.get(key);
      return (f && r.boolean(f, key)) ?? fallback;
    };
    const advertisementsField = entries.get('bgp-advertisements');
    if (advertisementsField && protocol === 'layer2') {
      r.error(advertisementsField, 'bgp-advertisements is only for bgp pools; this pool is layer2');
    }
    const interfacesField = entries.get('interfaces');
    if (interfacesField && protocol === 'bgp') r.error(interfacesField, 'interfaces is only for layer2 pools; this pool is bgp');
    const bgpAdvertisements =
      protocol !== 'bgp' ? [] : readAdvertisements(r, advertisementsField ?? { path: `${item.path}.bgp-advertisements`, node: undefined }, ranges, aliases);

    const pool: Pool = {
      name: name ?? '',
      protocol: protocol ?? 'layer2',
      ranges,
      autoAssign: flag('auto-assign', true),
      avoidBuggyIps: flag('avoid-buggy-ips', false),
      bgpAdvertisements,
      namespaces: readNamespaces(r, entries.get('namespaces')),
      namespaceSelectors: readOptionalSelectors(r, entries.get('namespace-selectors'), 'namespace-selectors'),
      serviceSelectors: readOptionalSelectors(r, entries.get('service-selectors'), 'service-selectors'),
      interfaces: interfacesField ? readInterfaces(r, interfacesField) : [],
      nodeSelectors: readOptionalSelectors(r, entries.get('node-selectors'), 'node-selectors'),
    };
    if (r.errors.length === errorsBefore) pools.push(pool);
  }
  return pools;
}

/** Reads a pool's address list, refusing overlaps with every range placed so far. */
export function readRanges(
  r: Reader,
  field: Field | undefined,
  poolItem: Field,
  poolName: string,
  placed: { range: AddressRange; path: string; pool: string }[],
): AddressRange[] {
  if (!field) {
    r.error(poolItem, 'an address pool needs "addresses" (CIDRs or first-last ranges)');
    return [];
  }
  const ranges: AddressRange[] = [];
  const items = r.list(field, 'addresses');
  if (items.length === 0 && r.isEmpty(field)) r.error(field, 'addresses is empty: a pool needs at least one CIDR or range');
  for (const item of items) {
    const text = r.string(item, 'an address entry');
    if (text === undefined) continue;
    const parsed = parsePoolAddress(text);
    if (!parsed.ok) {
      r.error(item, parsed.problem);
      continue;
    }
    if (parsed.note) r.warn(item, parsed.note);
    const clash = placed.find((p) => rangesOverlap(p.range, parsed.range));
    if (clash) {
      const where = clash.pool === poolName ? 'in this pool' : `in pool "${clash.pool}"`;
      const same = clash.range.first === parsed.range.first && clash.range.last === parsed.range.last;
      if (same && clash.pool === poolName) r.error(item, `${formatRange(parsed.range)} is listed twice (also at ${clash.path})`);
      else if (same) r.error(item, `${formatRange(parsed.range)} is already ${where} (${clash.path})`);
      else r.error(item, `${formatRange(parsed.range)} overlaps ${formatRange(clash.range)} ${where} (${clash.path})`);
      continue;
    }
    placed.push({ range: parsed.range, path: item.path, pool: poolName });
    ranges.push(parsed.range);
  }
  return ranges;
}

/** What a BGP pool announces when no advertisement is written: each address as a host route. */
export const defaultAdvertisement: BgpAdvertisement = {
  aggregationLength: 32,
  aggregationLengthV6: 128,
  localPref: undefined,
  communities: [],
  peers: [],
  nodeSelectors: [],
};

function readAdvertisements(r: Reader, field: Field, ranges: readonly AddressRange[], aliases: ReadonlyMap<string, Community>): BgpAdvertisement[] {
  const items = r.list(field, 'bgp-advertisements');
  if (items.length === 0) return [defaultAdvertisement];
  const out: { field: Field; value: BgpAdvertisement }[] = [];
  for (const item of items) {
    const entries = r.map(item, advertisementKeys, 'a bgp-advertisements entry');
    if (!entries) continue;
    const length = (key: string, family: AddressRange['family'], max: number): number => {
      const f = entries.get(key);
      const value = f && r.integer(f, key, 0, max);
      if (f && value !== undefined) checkAggregation(r, f, key, value, ranges.filter((range) => range.family === family));
      return value ?? max;
    };
    const prefField = entries.get('localpref');
    const communitiesField = entries.get('communities');
    out.push({
      field: item,
      value: {
        aggregationLength: length('aggregation-length', 'IPv4', 32),
        aggregationLengthV6: length('aggregation-length-v6', 'IPv6', 128),
        localPref: prefField && r.integer(prefField, 'localpref', 0, 4_294_967_295),
        communities: communitiesField ? readCommunityList(r, communitiesField, aliases) : [],
        peers: [],
        nodeSelectors: [],
      },
    });
  }
  // Two advertisements that announce the same routes with the same attributes (defaults
  // filled in, communities in any order) are one advertisement written twice.
  const identity = (a: BgpAdvertisement): string => canonical({ ...a, communities: a.communities.map(formatCommunity).sort() });
  return refuseRepeats(r, out, identity, () => 'this advertisement').map((entry) => entry.value);
}

/**
 * An aggregate wider than every prefix of an address entry is an error (as in MetalLB);
 * one wider than only some of a range's prefixes would also cover addresses outside the
 * pool, which MetalLB accepts, so it is a warning.
 */
export function checkAggregation(r: Reader, field: Field, key: string, length: number, ranges: readonly AddressRange[]): void {
  for (const range of ranges) {
    const lengths = rangeToCidrs(range).map((cidr) => cidr.prefixLength);
    const widest = Math.min(...lengths);
    const narrowest = Math.max(...lengths);
    if (length < widest) {
      r.error(field, `${key} ${length} is shorter than the pool's prefix /${widest} (${formatRange(range)}): the aggregate would announce addresses outside the pool`);
      return;
    }
    if (length < narrowest) {
      r.warn(field, `${key} ${length} rolls parts of ${formatRange(range)} up into prefixes that also cover addresses outside the pool`);
    }
  }
}

/** Reads a list of communities: literals, well-known names, or aliases defined in `aliasSource`. */
export function readCommunityList(r: Reader, field: Field, aliases: ReadonlyMap<string, Community>, aliasSource = 'bgp-communities'): Community[] {
  const out: { field: Field; value: { text: string; community: Community } }[] = [];
  for (const item of r.list(field, 'communities')) {
    const text = r.string(item, 'a community')?.trim();
    if (text === undefined) continue;
    const known = aliases.get(text) ?? wellKnownCommunities.get(text);
    if (known) {
      out.push({ field: item, value: { text, community: known } });
      continue;
    }
    if (/^[A-Za-z][-A-Za-z0-9_]*$/.test(text) && text.toLowerCase() !== 'large') {
      const names = [...aliases.keys(), ...wellKnownCommunities.keys()];
      r.error(item, `community alias "${text}" is not defined in ${aliasSource}${didYouMean(text, names)}`);
      continue;
    }
    const parsed = parseCommunity(text);
    if (typeof parsed === 'string') r.error(item, parsed);
    else out.push({ field: item, value: { text, community: parsed } });
  }
  const describe = ({ text, community }: { text: string; community: Community }): string => {
    const number = formatCommunity(community);
    return number === text ? `community ${text}` : `community "${text}" (${number})`;
  };
  return refuseRepeats(r, out, (v) => formatCommunity(v.community), describe).map((entry) => entry.value.community);
}

/** Reads a list of namespace names. */
export function readNamespaces(r: Reader, field: Field | undefined): string[] {
  if (!field) return [];
  const items = r.stringItems(field, 'namespaces');
  for (const { field: at, value } of items) {
    if (!dnsLabel.test(value)) r.error(at, `"${value}" is not a valid namespace name (lower-case letters, digits and "-")`);
  }
  return refuseRepeats(r, items, (v) => v, (v) => `namespace "${v}"`).map((item) => item.value);
}

function readOptionalSelectors(r: Reader, field: Field | undefined, what: string): ReturnType<typeof readSelectors> {
  return field ? readSelectors(r, field, what) : [];
}

/** Reads a list of interface names. */
export function readInterfaces(r: Reader, field: Field): string[] {
  const items = r.stringItems(field, 'interfaces');
  for (const { field: at, value } of items) {
    // Linux IFNAMSIZ is 16 including the terminating NUL; no "/", whitespace or ":".
    if (value.length === 0 || value.length > 15 || /[\s/:]/.test(value)) {
      r.error(at, `"${value}" is not a valid interface name (1 to 15 characters, no spaces, "/" or ":")`);
    }
  }
  return refuseRepeats(r, items, (v) => v, (v) => `interface "${v}"`).map((item) => item.value);
}

/** Freezes a value and everything it holds, so that nothing can change a Config once made. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (value instanceof Map) for (const v of value.values()) deepFreeze(v);
    else for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
