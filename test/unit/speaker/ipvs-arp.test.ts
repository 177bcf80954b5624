// kube-proxy's IPVS trap as the speaker sees it from the kernel's settings: kube-ipvs0 present
// and arp_ignore below 1 (for the node, and for the interfaces layer-2 VIPs are announced on,
// the kernel taking the larger of the two) means every node answers ARP for every VIP.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IpvsArpCheck, looseArpInterfaces, readIpvsArpFacts, reportIpvsArp } from '../../../src/speaker/ipvs-arp.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A fake /proc/sys and /sys/class/net: arp_ignore per interface ('all' included), kube-ipvs0 or not. */
function fakeRoot(arpIgnore: Record<string, number>, ipvs: boolean): string {
  const root = mkdtempSync(join(tmpdir(), 'vipcast-ipvs-'));
  roots.push(root);
  for (const [name, value] of Object.entries(arpIgnore)) {
    mkdirSync(join(root, 'proc/sys/net/ipv4/conf', name), { recursive: true });
    writeFileSync(join(root, 'proc/sys/net/ipv4/conf', name, 'arp_ignore'), `${value}\n`);
  }
  mkdirSync(join(root, 'sys/class/net', ipvs ? 'kube-ipvs0' : 'eth0'), { recursive: true });
  return root;
}

describe('the IPVS strictARP check', () => {
  it('finds nothing without kube-ipvs0, whatever arp_ignore says', () => {
    expect(looseArpInterfaces(readIpvsArpFacts(['eth0'], fakeRoot({ all: 0, eth0: 0 }, false)))).toEqual([]);
  });

  it('flags the announcing interfaces when IPVS runs and arp_ignore is 0 for the node and for them', () => {
    expect(looseArpInterfaces(readIpvsArpFacts(['eth0', 'eth1'], fakeRoot({ all: 0, eth0: 0, eth1: 1 }, true)))).toEqual(['eth0']);
  });

  it('passes when strictARP set the node-wide arp_ignore to 1 (the kernel uses the larger value)', () => {
    expect(looseArpInterfaces(readIpvsArpFacts(['eth0'], fakeRoot({ all: 1, eth0: 0 }, true)))).toEqual([]);
  });

  it('before any layer-2 interface is open, judges the node-wide setting', () => {
    expect(looseArpInterfaces(readIpvsArpFacts([], fakeRoot({ all: 0 }, true)))).toEqual(['all']);
    expect(looseArpInterfaces(readIpvsArpFacts([], fakeRoot({ all: 1 }, true)))).toEqual([]);
  });

  it('reports when the trap appears and when it goes, not on every check', () => {
    let facts = { ipvs: true, arpIgnore: { all: 0, byInterface: { eth0: 0 } } };
    const changes: string[][] = [];
    const check = new IpvsArpCheck({ interfaces: () => ['eth0'], read: () => facts, onChange: (loose) => changes.push([...loose]) });
    check.check();
    check.check();
    facts = { ipvs: true, arpIgnore: { all: 1, byInterface: { eth0: 0 } } };
    check.check();
    check.check();
    expect(changes).toEqual([['eth0'], []]);
    expect(check.loose).toEqual([]);
  });

  it('warns with a log line and a Warning Event on the Node naming strictARP; a Normal Event when it is fixed', () => {
    const logged: { level: string; msg: string }[] = [];
    const log = {
      warn: (msg: string) => logged.push({ level: 'warn', msg }),
      info: (msg: string) => logged.push({ level: 'info', msg }),
    } as unknown as Parameters<typeof reportIpvsArp>[1]['log'];
    const recorded: { subject: unknown; intent: { type: string; reason: string; note: string } }[] = [];
    const events = { record: (subject: unknown, intent: { type: string; reason: string; note: string }) => (recorded.push({ subject, intent }), Promise.resolve()) };
    reportIpvsArp(['eth0'], { node: 'n1', log, events });
    reportIpvsArp([], { node: 'n1', log, events });
    expect(logged.map((l) => l.level)).toEqual(['warn', 'info']);
    expect(recorded[0]?.subject).toEqual({ apiVersion: 'v1', kind: 'Node', namespace: '', name: 'n1' });
    expect(recorded[0]?.intent).toMatchObject({ type: 'Warning', reason: 'IPVSStrictARPOff' });
    expect(recorded[0]?.intent.note).toContain('strictARP: true');
    expect(recorded[0]?.intent.note).toContain('eth0');
    expect(recorded[1]?.intent).toMatchObject({ type: 'Normal', reason: 'IPVSStrictARPOn' });
  });
});
