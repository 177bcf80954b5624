// What `vipcast status` reads from the speaker Leases: who announces each address (a Lease
// voided by the speaker that took over no longer counts) and, with --nodes, each speaker's mode.
import { describe, expect, it } from 'vitest';
import { claimsAnnotation, durationAnnotation, standingRecords, type SpeakerLeaseObject } from '../../../src/speaker/speaker-lease.js';
import { formatSpeakers, speakerRows } from '../../../src/speaker/status-report.js';

const now = Date.parse('2026-12-02T12:00:00Z');

function lease(node: string, state: Record<string, unknown>, writtenSecondsAgo: number, holder = node): SpeakerLeaseObject {
  return {
    metadata: { name: `vipcast-speaker-${node}`, resourceVersion: '1', annotations: { [claimsAnnotation]: JSON.stringify(state), [durationAnnotation]: '1800' } },
    spec: { holderIdentity: holder, leaseDurationSeconds: 2, renewTime: new Date(now - writtenSecondsAgo * 1000).toISOString() },
  };
}

const members = ['node-1', 'node-2', 'node-3'];
const peer = (n: number): string => `192.0.2.${n}:7947`;

describe('the Leases as people read them', () => {
  it('a peer-quorum Lease written 20 s ago stands; one voided by the node that took over does not', () => {
    const leases = [
      lease('node-1', { claims: ['192.0.2.100'], held: ['192.0.2.100'], epoch: 4, members, peer: peer(1) }, 20),
      lease('node-2', { claims: ['192.0.2.101'], held: ['192.0.2.101'], epoch: 2, members, peer: peer(2) }, 25),
      lease('node-3', { claims: ['192.0.2.101'], held: ['192.0.2.101'], epoch: 7, members, peer: peer(3), voids: { 'node-2': 2 } }, 1),
    ];
    const standing = standingRecords(leases, now);
    expect(standing.map((r) => r.node)).toEqual(['node-1', 'node-3']);
  });

  it('a void of an older epoch does not touch a newer one', () => {
    const leases = [
      lease('node-2', { claims: ['192.0.2.101'], held: ['192.0.2.101'], epoch: 3, members, peer: peer(2) }, 2),
      lease('node-3', { claims: [], held: [], epoch: 7, members, peer: peer(3), voids: { 'node-2': 2 } }, 1),
    ];
    expect(standingRecords(leases, now).map((r) => r.node)).toEqual(['node-2', 'node-3']);
  });

  it('a one- or two-speaker Lease counts only within its duration', () => {
    const leases = [lease('node-1', { claims: [], held: ['192.0.2.100'], epoch: 1, members: ['node-1', 'node-2'], peer: peer(1) }, 5)];
    expect(standingRecords(leases, now)).toEqual([]);
    expect(standingRecords(leases, now, 10_000).map((r) => r.node)).toEqual(['node-1']);
  });

  it('status --nodes shows each speaker mode, epoch, configuration and whom it took over from', () => {
    const rows = speakerRows(
      [
        lease('node-3', { claims: ['192.0.2.101'], held: ['192.0.2.101'], epoch: 7, members, peer: peer(3), voids: { 'node-2': 2 } }, 1),
        lease('node-1', { claims: [], held: [], epoch: 1, members: ['node-1'], peer: peer(1) }, 0),
        lease('node-2', { claims: [], held: [], epoch: 3, members: [] }, 40, ''),
      ],
      now,
    );
    expect(rows.map((r) => [r.node, r.mode, r.epoch, r.layer2, r.voids.join(',')])).toEqual([
      ['node-1', 'lease', 1, 0, ''],
      ['node-2', 'released', 3, 0, ''],
      ['node-3', 'peer-quorum', 7, 1, 'node-2'],
    ]);
    const table = formatSpeakers(rows).split('\n');
    expect(table[0]?.split(/\s{2,}/)).toEqual(['NODE', 'MODE', 'EPOCH', 'WRITTEN', 'LAYER2', 'BGP', 'CONFIGURATION', 'TOOK OVER FROM']);
    expect(table[3]?.split(/\s{2,}/)).toEqual(['node-3', 'peer-quorum', '7', '1s ago', '1', '0', 'node-1,node-2,node-3', 'node-2']);
  });
});
