// A short human-readable summary of a valid config, for `vipcast check-config` and logs.
import { formatRange, rangeSize } from '../net/address.js';
import { formatCommunity } from './community.js';
import { buggyAddressCount } from './pool-address.js';
import { formatSelector } from './selector.js';
import type { Config, Pool } from './types.js';

/** The number of addresses a pool can hand out (after avoid-buggy-ips). */
export function usableAddressCount(pool: Pool): bigint {
  let total = 0n;
  for (const range of pool.ranges) total += rangeSize(range) - (pool.avoidBuggyIps ? buggyAddressCount(range) : 0n);
  return total;
}

/** A count written as a person reads it: exact below a million, else with its power of two. */
export function formatCount(count: bigint): string {
  if (count < 1_000_000n) return count.toString();
  const log2 = count.toString(2).length - 1;
  return (1n << BigInt(log2)) === count ? `${count} (2^${log2})` : count.toString();
}

function poolFamily(pool: Pool): string {
  const families = new Set(pool.ranges.map((r) => r.family));
  return families.size === 2 ? 'dual-stack' : [...families][0] ?? '-';
}

/** Table rows describing each pool and peer. */
export function summarizeConfig(config: Config): string[] {
  const lines: string[] = [];
  const rows = config.pools.map((pool) => [
    pool.name,
    pool.protocol,
    poolFamily(pool),
    formatCount(usableAddressCount(pool)),
    pool.autoAssign ? 'yes' : 'no',
    pool.ranges.map(formatRange).join(', '),
  ]);
  lines.push(`${config.pools.length} pool(s)`);
  if (rows.length > 0) lines.push(...table(['NAME', 'PROTOCOL', 'FAMILY', 'ADDRESSES', 'AUTO-ASSIGN', 'RANGES'], rows));
  for (const pool of config.pools) {
    const limits: string[] = [];
    if (pool.namespaces.length > 0) limits.push(`namespaces ${pool.namespaces.join(', ')}`);
    if (pool.namespaceSelectors.length > 0) limits.push(`namespaces labelled ${pool.namespaceSelectors.map(formatSelector).join(' or ')}`);
    if (pool.serviceSelectors.length > 0) limits.push(`Services labelled ${pool.serviceSelectors.map(formatSelector).join(' or ')}`);
    if (pool.nodeSelectors.length > 0) limits.push(`announced by nodes matching ${pool.nodeSelectors.length} selector(s)`);
    if (pool.interfaces.length > 0) limits.push(`on interfaces ${pool.interfaces.join(', ')}`);
    if (pool.avoidBuggyIps) limits.push('skips .0 and .255');
    const communities = [...new Set(pool.bgpAdvertisements.flatMap((a) => a.communities.map(formatCommunity)))];
    if (communities.length > 0) limits.push(`communities ${communities.join(' ')}`);
    if (pool.protocol === 'none') limits.push('not announced');
    if (limits.length > 0) lines.push(`  ${pool.name}: ${limits.join('; ')}`);
    // Advertisements that say more than "each address as a host route, everywhere".
    for (const ad of pool.bgpAdvertisements) {
      const parts = [
        ad.aggregationLength !== 32 || ad.aggregationLengthV6 !== 128 ? `aggregated to /${ad.aggregationLength} and /${ad.aggregationLengthV6}` : undefined,
        ad.localPref === undefined ? undefined : `LOCAL_PREF ${ad.localPref}`,
        ad.peers.length > 0 ? `to ${ad.peers.join(', ')} only` : undefined,
        ad.nodeSelectors.length > 0 ? `from nodes matching ${ad.nodeSelectors.map(formatSelector).join(' or ')}` : undefined,
      ].filter((x) => x !== undefined);
      if (parts.length > 0) lines.push(`  ${pool.name} advertisement: ${parts.join('; ')}`);
    }
  }
  lines.push(`${config.peers.length} peer(s)`);
  for (const peer of config.peers) {
    const extras = [
      `port ${peer.peerPort}`,
      `hold ${peer.holdTime}s`,
      `keepalive ${peer.keepaliveTime}s`,
      peer.password === undefined ? undefined : 'TCP MD5',
      peer.bfdProfile === undefined ? undefined : `BFD ${peer.bfdProfile}`,
      peer.ebgpMultihop ? 'multihop' : undefined,
      peer.pools.length > 0 ? `pools ${peer.pools.join(', ')}` : undefined,
    ].filter((x) => x !== undefined);
    const name = peer.name === undefined ? '' : `${peer.name}: `;
    lines.push(`  ${name}${peer.peerAddress} AS${peer.peerAsn} from AS${peer.myAsn} (${peer.peerAsn === peer.myAsn ? 'iBGP' : 'eBGP'}): ${extras.join(', ')}`);
  }
  return lines;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => `  ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}
