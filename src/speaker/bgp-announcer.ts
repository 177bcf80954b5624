// The speaker's BGP side: one session per configured peer that matches this node, each
// announcing this node's eligible BGP VIPs with itself as next hop. Sessions are created,
// replaced (when a peer's settings change) and stopped as the config changes.
import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { Config, Peer, Pool } from '../config/types.js';
import { BgpSession, type SessionConfig, type SessionEvent } from '../../speakers/bgp/session.js';
import type { BgpAnnouncer } from './runtime.js';
import { peerKey, peersForNode, routesForPeer } from './bgp-routes.js';

/** What the announcer needs to know about its node and how to report. */
export interface SpeakerBgpOptions {
  readonly node: string;
  /** The node's labels, read when peers are matched against node selectors. */
  readonly nodeLabels: () => Readonly<Record<string, string>>;
  /** BGP identifier when a peer has no router-id and no IPv4 source address. */
  readonly routerId?: string | undefined;
  /** Next hops for routes whose family differs from the session's transport. */
  readonly nextHops?: { readonly ipv4?: string; readonly ipv6?: string };
  /** Text of the Cease sent when stopping (RFC 8203). */
  readonly shutdownMessage?: string;
  readonly onEvent: (peer: string, event: SessionEvent) => void;
}

/** A stable BGP identifier for a node without an IPv4 address to use (RFC 6286 allows any non-zero value). */
export function routerIdFor(node: string): string {
  const bytes = createHash('sha256').update(node).digest();
  return [bytes[0] ?? 10, bytes[1] ?? 0, bytes[2] ?? 0, (bytes[3] ?? 0) | 1].join('.');
}

/** Runs this node's BGP sessions. */
export class SpeakerBgp implements BgpAnnouncer {
  readonly #sessions = new Map<string, { readonly peer: Peer; readonly session: BgpSession }>();

  constructor(private readonly o: SpeakerBgpOptions) {}

  /** Session states by peer address, for metrics. */
  states(): Map<string, string> {
    return new Map([...this.#sessions.values()].map(({ peer, session }) => [peer.peerAddress, session.state]));
  }

  setVips(vips: ReadonlyMap<string, Pool>, config: Config): void {
    const wanted = new Map(peersForNode(config, this.o.nodeLabels()).map((peer) => [peerKey(peer), peer]));
    for (const [key, { peer, session }] of this.#sessions) {
      if (wanted.has(key)) continue;
      this.#sessions.delete(key);
      void session.stop(this.o.shutdownMessage ?? 'vipcast: peer removed from the config');
      this.o.onEvent(peer.peerAddress, { type: 'state', state: 'Idle' });
    }
    for (const [key, peer] of wanted) {
      let entry = this.#sessions.get(key);
      if (!entry) {
        const session = new BgpSession(this.#sessionConfig(peer, config), (event) => this.o.onEvent(peer.peerAddress, event));
        entry = { peer, session };
        this.#sessions.set(key, entry);
        session.start();
      }
      entry.session.setRoutes(routesForPeer(peer, vips, this.o.nextHops));
    }
  }

  async stop(): Promise<void> {
    const text = this.o.shutdownMessage ?? `vipcast speaker on ${this.o.node} stopping`;
    // One session failing to close cleanly must not keep the others from sending their Cease.
    const results = await Promise.allSettled([...this.#sessions.values()].map(({ session }) => session.stop(text)));
    this.#sessions.clear();
    const failed = results.flatMap((r): unknown[] => (r.status === 'rejected' ? [r.reason] : []));
    if (failed.length > 0) throw new AggregateError(failed, `${failed.length} BGP session(s) did not close cleanly`);
  }

  #sessionConfig(peer: Peer, config: Config): SessionConfig {
    const source = peer.sourceAddress;
    const routerId = peer.routerId ?? (source !== undefined && isIPv4(source) ? source : (this.o.routerId ?? routerIdFor(this.o.node)));
    const profile = peer.bfdProfile === undefined ? undefined : config.bfdProfiles.find((p) => p.name === peer.bfdProfile);
    return {
      peerAddress: peer.peerAddress,
      peerPort: peer.peerPort,
      myAsn: peer.myAsn,
      peerAsn: peer.peerAsn,
      routerId,
      holdTime: peer.holdTime,
      ...(source !== undefined ? { localAddress: source } : {}),
      ...(peer.password !== undefined ? { password: peer.password } : {}),
      ...(peer.ebgpMultihop ? { ttl: 255 } : {}),
      ...(profile ? { bfd: { intervalMs: Math.max(profile.transmitInterval, profile.receiveInterval), multiplier: profile.detectMultiplier } } : {}),
    };
  }
}
