// kube-proxy's IPVS trap (docs/adr/0021-ipvs-strict-arp-check.md). In IPVS mode kube-proxy puts
// every Service address, LoadBalancer VIPs included, on the dummy interface kube-ipvs0. Linux
// answers ARP for any local address on any interface unless arp_ignore says otherwise, so
// every node answers ARP for every IPv4 VIP and layer-2 failover means nothing. kube-proxy's
// `strictARP: true` sets net.ipv4.conf.all.arp_ignore=1 and arp_announce=2, which stops it.
// (IPv6 is not affected: a node answers Neighbor Solicitations only for addresses on the
// interface they arrive on.) The speaker cannot fix this for kube-proxy; it detects it from
// the kernel's own settings, which are the ground truth whatever configured them, and says so.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventRecorder } from '../k8s/events.js';
import type { Logger } from '../log.js';

/** The interface kube-proxy's IPVS mode creates on every node. */
export const ipvsInterface = 'kube-ipvs0';

/** What the kernel of this node says, read from /sys and /proc/sys. */
export interface IpvsArpFacts {
  /** kube-ipvs0 exists: kube-proxy runs in IPVS mode here. */
  readonly ipvs: boolean;
  /** net.ipv4.conf.all.arp_ignore and the announcing interfaces' own values (the kernel uses the larger). */
  readonly arpIgnore: { readonly all: number; readonly byInterface: Readonly<Record<string, number>> };
}

/** Reads the facts for the interfaces the speaker announces on; `root` is for tests. */
export function readIpvsArpFacts(interfaces: readonly string[], root = '/'): IpvsArpFacts {
  const read = (name: string): number => {
    try {
      return Number(readFileSync(join(root, 'proc/sys/net/ipv4/conf', name, 'arp_ignore'), 'utf8').trim());
    } catch {
      return 0;
    }
  };
  const byInterface: Record<string, number> = {};
  for (const name of interfaces) byInterface[name] = read(name);
  return { ipvs: existsSync(join(root, 'sys/class/net', ipvsInterface)), arpIgnore: { all: read('all'), byInterface } };
}

/**
 * The interfaces on which this node's kernel answers ARP for addresses on kube-ipvs0, or an
 * empty list when it does not (no IPVS, or arp_ignore ≥ 1 as strictARP sets it).
 */
export function looseArpInterfaces(facts: IpvsArpFacts): string[] {
  if (!facts.ipvs) return [];
  // Before any layer-2 interface is open, the node-wide setting alone tells.
  if (Object.keys(facts.arpIgnore.byInterface).length === 0) return facts.arpIgnore.all < 1 ? ['all'] : [];
  return Object.entries(facts.arpIgnore.byInterface)
    .filter(([, own]) => Math.max(own, facts.arpIgnore.all) < 1)
    .map(([name]) => name);
}

/** Watches for the trap and reports when it appears and when it goes. */
export class IpvsArpCheck {
  #loose: string[] = [];

  constructor(
    private readonly o: {
      /** The interfaces layer-2 VIPs are announced on now. */
      readonly interfaces: () => readonly string[];
      readonly read?: (interfaces: readonly string[]) => IpvsArpFacts;
      /** Called when the set of loose interfaces changes (empty: the trap is gone). */
      readonly onChange: (loose: readonly string[]) => void;
    },
  ) {}

  /** Interfaces where the kernel answers ARP for every VIP, as of the last check. */
  get loose(): readonly string[] {
    return this.#loose;
  }

  /** Reads the kernel's settings again; reports a change. */
  check(): void {
    const facts = (this.o.read ?? readIpvsArpFacts)(this.o.interfaces());
    const loose = looseArpInterfaces(facts).sort();
    if (loose.join() === this.#loose.join()) return;
    this.#loose = loose;
    this.o.onChange(loose);
  }
}

/** Where {@link reportIpvsArp} reports to. */
export interface IpvsArpSinks {
  readonly node: string;
  readonly log: Logger;
  readonly events: Pick<EventRecorder, 'record'>;
}

/** A log line and an Event on the Node when the trap appears, and again when it is gone. */
export function reportIpvsArp(loose: readonly string[], to: IpvsArpSinks): void {
  const subject = { apiVersion: 'v1', kind: 'Node', namespace: '', name: to.node };
  if (loose.length > 0) {
    const where = loose.includes('all') ? 'net.ipv4.conf.all.arp_ignore is 0' : `arp_ignore is 0 on ${loose.join(', ')}`;
    const note =
      `kube-proxy runs in IPVS mode (${ipvsInterface} exists) and ${where}: this node's kernel answers ARP for every Service address, ` +
      'so every node answers for every layer-2 VIP and failover cannot work. Set strictARP: true in kube-proxy\'s configuration (docs/speaker.md).';
    to.log.warn('kube-proxy IPVS without strictARP', { interfaces: loose, note });
    void to.events.record(subject, { type: 'Warning', reason: 'IPVSStrictARPOff', note, action: 'CheckARP' });
  } else {
    const note = `the kernel no longer answers ARP for ${ipvsInterface}'s addresses on the interfaces vipcast announces on (strictARP is in effect, or IPVS is gone)`;
    to.log.info('kube-proxy IPVS ARP check passes', { note });
    void to.events.record(subject, { type: 'Normal', reason: 'IPVSStrictARPOn', note, action: 'CheckARP' });
  }
}
