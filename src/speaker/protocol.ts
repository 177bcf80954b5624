// An announcement mode as the speaker runtime sees it, in the shape of MetalLB's speaker
// protocols (set config, should announce, set balancer, delete balancer): the runtime decides
// which VIPs the cluster wants and which nodes are eligible for each (desired.ts); each mode
// receives its own pools' VIPs and announces, the way it does, the ones this node should. A
// new mode is one more AnnouncementProtocol, not an edit of SpeakerRuntime.recompute.
import type { Config, Protocol } from '../config/types.js';
import type { DesiredVip } from './desired.js';

/** What a protocol reports on a Service of a VIP: an Event with this type, reason and note. */
export type ReportVip = (vip: DesiredVip, type: 'Normal' | 'Warning', reason: string, note: string) => void;

/** One announcement mode. */
export interface AnnouncementProtocol {
  /** The pools' `protocol` it serves. */
  readonly mode: Protocol;
  /**
   * The wanted VIPs of this mode's pools, decided with `config`: replaces the previous set,
   * so a VIP missing from it is no longer announced (set balancer / delete balancer in one).
   */
  setVips(vips: ReadonlyMap<string, DesiredVip>, config: Config): void;
  /** Whether this node announces the VIP now (should announce, as it stands). */
  announcing(vip: string): boolean;
  /** How many VIPs this node announces now. */
  readonly count: number;
  /** Begins announcing, once the caches have synced. */
  start(): void;
  /** Planned stop: stops announcing and tells the network so. */
  stop(): Promise<void>;
}
