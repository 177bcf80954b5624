// Layer 2 as an announcement mode (protocol.ts): one node per VIP, chosen by the layer-2
// ownership (per-node Leases and the peer quorum, ADR 0017), answers ARP/NDP for it on the
// interfaces the kernel says lead to it (ADR 0022), through one layer-2 speaker per interface.
import type { Config, Pool } from '../config/types.js';
import type { Logger } from '../log.js';
import type { PeerMesh } from '../../speakers/peer/mesh.js';
import type { DesiredVip } from './desired.js';
import type { ClaimReason } from './layer2-election.js';
import { Layer2Ownership } from './layer2-ownership.js';
import type { AnnouncementProtocol, ReportVip } from './protocol.js';
import type { SpeakerLease } from './speaker-lease.js';

/** One interface's layer-2 speaker, as the runtime uses it. */
export interface LinkSpeaker {
  announce(vip: string): unknown;
  release(vip: string): boolean;
  /** Requests answered so far. */
  answered(): number;
  close(): void;
}

/** What layer 2 needs from the speaker. */
export interface Layer2ProtocolOptions {
  readonly node: string;
  readonly lease: SpeakerLease;
  readonly clock: () => number;
  readonly log: Logger;
  /**
   * The interfaces to announce a layer-2 VIP of this pool on, each able to carry frames now;
   * empty when there is none, which makes the node decline the VIP (ADR 0022).
   */
  readonly interfacesFor: (pool: Pool, vip: string) => string[];
  readonly openLink: (interfaceName: string) => LinkSpeaker;
  /** The peer channel (ADR 0017); without it layer-2 ownership follows the Lease alone. */
  readonly peer?: PeerMesh | undefined;
  readonly report: ReportVip;
  /** Told whenever the announced set changes (metrics). */
  readonly onChange?: (() => void) | undefined;
}

/** Layer-2 announcement of the VIPs of layer-2 pools. */
export class Layer2Protocol implements AnnouncementProtocol {
  readonly mode = 'layer2';
  readonly ownership: Layer2Ownership;
  readonly #links = new Map<string, LinkSpeaker>();
  /** Interfaces each held VIP is announced on. */
  readonly #announcedOn = new Map<string, string[]>();
  #vips: ReadonlyMap<string, DesiredVip> = new Map();

  constructor(private readonly o: Layer2ProtocolOptions) {
    this.ownership = new Layer2Ownership(o.lease, o.clock, {
      answer: (vip) => this.#answer(vip),
      silence: (vip, reason) => this.#silence(vip, reason),
      log: (message, fields) => o.log.info(message, fields),
      keptThroughOutage: (vips, outageMs) => {
        for (const vip of vips) {
          const desired = this.#vips.get(vip);
          if (desired) o.report(desired, 'Normal', 'KeptThroughAPIOutage', `node ${o.node} kept answering for ${vip} through ${(outageMs / 1000).toFixed(1)} s in which the API server was unreachable (its peers kept it in contact)`);
        }
      },
    }, o.peer);
  }

  setVips(vips: ReadonlyMap<string, DesiredVip>, _config: Config): void {
    this.#vips = vips;
    const eligible = new Map<string, ReadonlySet<string>>();
    const declined = new Set<string>();
    for (const [ip, vip] of vips) {
      eligible.set(ip, vip.eligible);
      if (vip.linkDown) declined.add(ip);
    }
    this.ownership.setVips(eligible, declined);
    this.#followInterfaces();
  }

  announcing(vip: string): boolean {
    return this.ownership.held().has(vip);
  }

  get count(): number {
    return this.ownership.held().size;
  }

  start(): void {
    this.ownership.start();
  }

  /** Releases the VIPs and the Lease, then closes the interfaces. */
  async stop(): Promise<void> {
    try {
      await this.ownership.stop();
    } finally {
      for (const link of this.#links.values()) link.close();
      this.#links.clear();
    }
  }

  /** Replies sent by all layer-2 speakers. */
  answered(): number {
    let total = 0;
    for (const link of this.#links.values()) total += link.answered();
    return total;
  }

  /** Another host claims a VIP this node answers for: a log line and a Warning Event on its Services. */
  reportConflict(vip: string, mac: string, interfaceName: string): void {
    this.o.log.warn('another host claims a VIP we answer for', { vip, mac, interface: interfaceName });
    const desired = this.#vips.get(vip);
    if (desired) this.o.report(desired, 'Warning', 'AddressConflict', `host ${mac} on ${interfaceName} claims ${vip}, which node ${this.o.node} answers for; check for a duplicate address on the network`);
  }

  /** VIPs held on interfaces other than those they would be announced on now move to those (a route changed). */
  #followInterfaces(): void {
    for (const vip of this.ownership.held()) {
      const desired = this.#vips.get(vip);
      const before = this.#announcedOn.get(vip);
      if (!desired || !before) continue;
      const now = this.o.interfacesFor(desired.pool, vip);
      if (now.length === 0 || (now.length === before.length && now.every((name, i) => name === before[i]))) continue;
      for (const name of before) if (!now.includes(name)) this.#links.get(name)?.release(vip);
      this.#answer(vip);
    }
  }

  #answer(vip: string): void {
    const desired = this.#vips.get(vip);
    if (!desired) return;
    const interfaces = this.o.interfacesFor(desired.pool, vip);
    if (interfaces.length === 0) this.o.log.warn('no interface to announce on', { vip, pool: desired.pool.name });
    for (const name of interfaces) {
      let link = this.#links.get(name);
      if (!link) {
        try {
          link = this.o.openLink(name);
        } catch (error) {
          this.o.log.error('cannot open interface', { interface: name, error: String(error) });
          continue;
        }
        this.#links.set(name, link);
      }
      link.announce(vip);
    }
    this.#announcedOn.set(vip, interfaces);
    this.o.log.info('announcing', { vip, mode: 'layer2', interfaces, services: desired.services });
    this.o.report(desired, 'Normal', 'AnnouncingL2', `node ${this.o.node} answers ARP/NDP for ${vip} on ${interfaces.join(', ') || '(no interface)'}`);
    this.o.onChange?.();
  }

  #silence(vip: string, reason: ClaimReason | 'stopping'): void {
    for (const name of this.#announcedOn.get(vip) ?? []) this.#links.get(name)?.release(vip);
    this.#announcedOn.delete(vip);
    this.o.log.info('stopped announcing', { vip, mode: 'layer2', reason });
    const desired = this.#vips.get(vip);
    if (desired) this.o.report(desired, 'Normal', 'StoppedAnnouncingL2', `node ${this.o.node} stopped answering for ${vip}: ${reason}`);
    this.o.onChange?.();
  }
}
