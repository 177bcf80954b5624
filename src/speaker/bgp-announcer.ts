// The speaker's BGP side: one session per configured peer that matches this node, each
// announcing this node's eligible BGP VIPs with itself as next hop. Sessions are created,
// replaced (when a peer's settings change) and stopped as the config changes.
import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { Config, Peer, Pool } from '../config/types.js';
import { BgpSession, type SessionConfig, type SessionEvent } from '../../speakers/bgp/session.js';
import type { BgpAnnouncer } from './bgp-protocol.js';
import { familiesForPeer, peersForNode, routesForPeer } from './bgp-routes.js';

/** What the announcer needs to know about its node and how to report. */
export interface SpeakerBgpOptions {
  readonly node: string;
  /** The node's labels, read when peers are matched against node selectors. */
  readonly nodeLabels: () => Readonly<Record<string, string>>;
  /** BGP identifier for peers without router-id (the --router-id flag); else our end of each session. */
  readonly routerId?: string | undefined;
  /** Next hops for routes whose family differs from the session's transport. */
  readonly nextHops?: { readonly ipv4?: string; readonly ipv6?: string };
  /** Text of the Cease sent when stopping (RFC 8203). */
  readonly shutdownMessage?: string;
  readonly onEvent: (peer: string, event: SessionEvent) => void;
  /** Makes a session; a real BgpSession unless a test passes its own. */
  readonly createSession?: (config: SessionConfig, listener: (event: SessionEvent) => void) => AnnouncerSession;
}

/** The part of a BGP session the announcer drives. */
export type AnnouncerSession = Pick<BgpSession, 'start' | 'stop' | 'setRoutes' | 'state'>;

/** A stable BGP identifier for a node without an IPv4 address to use (RFC 6286 allows any non-zero value). */
export function routerIdFor(node: string): string {
  const bytes = createHash('sha256').update(node).digest();
  return [bytes[0] ?? 10, bytes[1] ?? 0, bytes[2] ?? 0, (bytes[3] ?? 0) | 1].join('.');
}

/** Runs this node's BGP sessions. */
export class SpeakerBgp implements BgpAnnouncer {
  readonly #sessions = new Map<string, { readonly peer: Peer; readonly session: AnnouncerSession }>();

  constructor(private readonly o: SpeakerBgpOptions) {}

  /** Session states by peer address, for metrics. */
  states(): Map<string, string> {
    return new Map([...this.#sessions.values()].map(({ peer, session }) => [peer.peerAddress, session.state]));
  }

  setVips(vips: ReadonlyMap<string, Pool>, config: Config): void {
    // A session is keyed by every setting it was built from, so changing any of them (a
    // keepalive, a BFD profile's interval) replaces the session rather than being ignored.
    const nodeLabels = this.o.nodeLabels();
    const nodePeers = peersForNode(config, nodeLabels);
    const wanted = new Map(
      nodePeers.map((peer) => {
        const settings = this.#sessionConfig(peer, config);
        return [JSON.stringify(settings), { peer, settings }] as const;
      }),
    );
    for (const [key, { peer, session }] of this.#sessions) {
      if (wanted.has(key)) continue;
      this.#sessions.delete(key);
      void session.stop(this.o.shutdownMessage ?? 'vipcast: peer removed from the config');
      this.o.onEvent(peer.peerAddress, { type: 'state', state: 'Idle' });
    }
    for (const [key, { peer, settings }] of wanted) {
      let entry = this.#sessions.get(key);
      if (!entry) {
        const listener = (event: SessionEvent): void => this.o.onEvent(peer.peerAddress, event);
        const session = this.o.createSession ? this.o.createSession(settings, listener) : new BgpSession(settings, listener);
        entry = { peer, session };
        this.#sessions.set(key, entry);
        session.start();
      }
      entry.session.setRoutes(routesForPeer(peer, vips, { nodeLabels, nextHops: this.o.nextHops, families: familiesForPeer(peer, nodePeers) }));
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
    // MetalLB's default: the local IPv4 address of the session, which the session learns when
    // it connects; an identifier derived from the node name when that address is IPv6.
    const routerId = peer.routerId ?? this.o.routerId ?? (source !== undefined && isIPv4(source) ? source : undefined);
    const profile = peer.bfdProfile === undefined ? undefined : config.bfdProfiles.find((p) => p.name === peer.bfdProfile);
    return {
      peerAddress: peer.peerAddress,
      peerPort: peer.peerPort,
      myAsn: peer.myAsn,
      peerAsn: peer.peerAsn,
      routerId,
      fallbackRouterId: routerIdFor(this.o.node),
      holdTime: peer.holdTime,
      keepaliveTime: peer.keepaliveTime,
      ...(source !== undefined ? { localAddress: source } : {}),
      ...(peer.password !== undefined ? { password: peer.password } : {}),
      ...(peer.ebgpMultihop ? { ttl: 255 } : {}),
      ...(profile ? { bfd: { transmitIntervalMs: profile.transmitInterval, receiveIntervalMs: profile.receiveInterval, multiplier: profile.detectMultiplier } } : {}),
    };
  }
}
