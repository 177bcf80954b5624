// `vipcast status` as a pure function: from the Services, the speaker Leases and the config,
// one row per VIP saying which Service(s) use it, its pool and mode, and which node(s)
// announce it now.
import type { Config } from '../config/types.js';
import { canonicalAddress } from '../net/address.js';
import { poolOf, type ServiceView } from './desired.js';
import { isPeerQuorumRecord, leaseRecordFrom, standingRecords, type SpeakerLeaseObject } from './speaker-lease.js';

/** One line of the status table. */
export interface StatusRow {
  readonly vip: string;
  readonly services: readonly string[];
  readonly pool: string;
  readonly mode: string;
  readonly announcedBy: readonly string[];
}

/**
 * Builds the rows from the Leases that stand (standingRecords: judged by the reader's wall
 * clock `nowMs`, good enough for people; speakers themselves never compare clocks).
 */
export function statusRows(services: readonly ServiceView[], leases: readonly SpeakerLeaseObject[], config: Config | undefined, nowMs: number, loadBalancerClass?: string): StatusRow[] {
  const live = standingRecords(leases, nowMs, 1000);
  const rows = new Map<string, { services: string[]; pool: string; mode: string }>();
  for (const service of services) {
    if (service.spec?.type !== 'LoadBalancer') continue;
    const cls = service.spec.loadBalancerClass;
    if (cls !== undefined && cls !== loadBalancerClass) continue;
    for (const ingress of service.status?.loadBalancer?.ingress ?? []) {
      const ip = ingress.ip === undefined ? undefined : canonicalAddress(ingress.ip);
      if (ip === undefined) continue;
      const pool = config ? poolOf(config, ip) : undefined;
      const row = rows.get(ip) ?? { services: [], pool: pool?.name ?? '(none)', mode: pool?.protocol ?? '-' };
      row.services.push(`${service.metadata.namespace ?? ''}/${service.metadata.name ?? ''}`);
      rows.set(ip, row);
    }
  }
  return [...rows.entries()]
    .map(([vip, row]) => ({
      vip,
      services: row.services.sort(),
      pool: row.pool,
      mode: row.mode,
      announcedBy: live.filter((r) => (row.mode === 'bgp' ? r.bgp.has(vip) : r.held.has(vip))).map((r) => r.node).sort(),
    }))
    .sort((a, b) => a.vip.localeCompare(b.vip, 'en', { numeric: true }));
}

/** Formats rows as an aligned table. */
export function formatStatus(rows: readonly StatusRow[]): string {
  const header = ['VIP', 'SERVICES', 'POOL', 'MODE', 'ANNOUNCED BY'];
  const cells = rows.map((r) => [r.vip, r.services.join(','), r.pool, r.mode, r.announcedBy.length > 0 ? r.announcedBy.join(',') : '(nobody)']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (c: readonly string[]): string => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...cells.map(line)].join('\n');
}

/** One speaker as its Lease shows it (`vipcast status --nodes`). */
export interface SpeakerRow {
  readonly node: string;
  /** `peer-quorum` (ADR 0017), `lease` (one or two speakers, or no peer channel), or `released`. */
  readonly mode: string;
  readonly epoch: number;
  readonly configuration: readonly string[];
  /** Seconds since the Lease was last written, by the reader's clock. */
  readonly writtenAgoSeconds: number | undefined;
  readonly layer2: number;
  readonly bgp: number;
  /** Peers whose claims this speaker holds void (it may have taken over from them). */
  readonly voids: readonly string[];
}

/** What each speaker's Lease says about it, sorted by node. */
export function speakerRows(leases: readonly SpeakerLeaseObject[], nowMs: number): SpeakerRow[] {
  return leases
    .flatMap((lease) => {
      const record = leaseRecordFrom(lease);
      if (!record) return [];
      const written = Date.parse(lease.spec?.renewTime ?? '');
      return [
        {
          node: record.node,
          mode: record.holderIdentity === '' ? 'released' : isPeerQuorumRecord(record) ? 'peer-quorum' : 'lease',
          epoch: record.epoch,
          configuration: record.members,
          writtenAgoSeconds: Number.isFinite(written) ? Math.max(0, Math.round((nowMs - written) / 1000)) : undefined,
          layer2: record.held.size,
          bgp: record.bgp.size,
          voids: [...record.voids.keys()].sort(),
        },
      ];
    })
    .sort((a, b) => a.node.localeCompare(b.node, 'en', { numeric: true }));
}

/** Formats speaker rows as an aligned table. */
export function formatSpeakers(rows: readonly SpeakerRow[]): string {
  const header = ['NODE', 'MODE', 'EPOCH', 'WRITTEN', 'LAYER2', 'BGP', 'CONFIGURATION', 'TOOK OVER FROM'];
  const cells = rows.map((r) => [r.node, r.mode, String(r.epoch), r.writtenAgoSeconds === undefined ? '-' : `${r.writtenAgoSeconds}s ago`, String(r.layer2), String(r.bgp), r.configuration.join(',') || '-', r.voids.join(',') || '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (c: readonly string[]): string => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...cells.map(line)].join('\n');
}
