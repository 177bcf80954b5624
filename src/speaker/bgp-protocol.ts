// BGP as an announcement mode (protocol.ts): every eligible node announces a host route for
// each VIP of a BGP pool to its peers, through the BGP announcer (bgp-announcer.ts).
import type { Config, Pool } from '../config/types.js';
import type { Logger } from '../log.js';
import type { DesiredVip } from './desired.js';
import type { AnnouncementProtocol, ReportVip } from './protocol.js';
import type { SpeakerLease } from './speaker-lease.js';

/** How BGP VIPs leave the speaker: the set of (VIP, pool) this node should announce now. */
export interface BgpAnnouncer {
  /** Replaces the announced set; called after every change. */
  setVips(vips: ReadonlyMap<string, Pool>, config: Config): void;
  /** Withdraws everything with a shutdown message and closes the sessions. */
  stop(): Promise<void>;
}

/** What BGP needs from the speaker. */
export interface BgpProtocolOptions {
  readonly node: string;
  /** Where the node records what it announces (for `vipcast status`). */
  readonly lease: SpeakerLease;
  readonly log: Logger;
  readonly announcer: BgpAnnouncer | undefined;
  readonly report: ReportVip;
  /** Told whenever the announced set changes (metrics). */
  readonly onChange?: (() => void) | undefined;
}

/** BGP announcement of the VIPs of BGP pools this node is eligible for. */
export class BgpProtocol implements AnnouncementProtocol {
  readonly mode = 'bgp';
  #announced = new Map<string, Pool>();

  constructor(private readonly o: BgpProtocolOptions) {}

  setVips(vips: ReadonlyMap<string, DesiredVip>, config: Config): void {
    const before = this.#announced;
    const now = new Map<string, Pool>();
    for (const [ip, vip] of vips) if (vip.eligible.has(this.o.node)) now.set(ip, vip.pool);
    this.#announced = now;
    for (const [ip] of now) {
      const desired = vips.get(ip);
      if (!before.has(ip) && desired) this.o.report(desired, 'Normal', 'AnnouncingBGP', `node ${this.o.node} announces ${ip} to its BGP peers`);
    }
    for (const [ip] of before) if (!now.has(ip)) this.o.log.info('stopped announcing', { vip: ip, mode: 'bgp' });
    this.o.lease.bgpAnnounced = new Set(now.keys());
    this.o.announcer?.setVips(now, config);
    if (before.size !== now.size) this.o.onChange?.();
  }

  announcing(vip: string): boolean {
    return this.#announced.has(vip);
  }

  get count(): number {
    return this.#announced.size;
  }

  start(): void {}

  /** Withdraws every route with a shutdown message. */
  async stop(): Promise<void> {
    await this.o.announcer?.stop();
  }
}
