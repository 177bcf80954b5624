// The two ways the control-plane leader tells the network it holds the VIP: layer 2 through
// speakers/layer2 (takeover burst of gratuitous ARP / unsolicited NA, periodic refresh, answers)
// or BGP through speakers/bgp (a host route with this node as next hop). The BGP session stays
// up on every node, so a takeover is one UPDATE.
import { Layer2Speaker } from '../../speakers/layer2/speaker.js';
import type { AnnouncementTiming } from '../../speakers/layer2/announcer.js';
import { BgpSession, type SessionConfig, type SessionEvent } from '../../speakers/bgp/session.js';
import type { VipAnnouncer } from './vip-holder.js';

/** A layer-2 announcer on one interface (needs CAP_NET_RAW). */
export function layer2Announcer(interfaceName: string, timing: AnnouncementTiming | undefined, onError: (message: string) => void): VipAnnouncer {
  const speaker = Layer2Speaker.open(interfaceName, { ...(timing === undefined ? {} : { timing }), onError });
  return {
    announce: (vip) => void speaker.announce(vip),
    withdraw: (vip) => void speaker.release(vip),
    close: () => speaker.close(),
  };
}

/** What the BGP announcer needs beyond the session: the next hop of the VIP's route. */
export interface BgpAnnouncerConfig {
  readonly session: SessionConfig;
  /** Next hop announced for the VIP: this node's address toward the router. */
  readonly nextHop: string;
}

/** A BGP announcer: one session, started now; announce/withdraw change its routes. */
export function bgpAnnouncer(config: BgpAnnouncerConfig, onEvent: (event: SessionEvent) => void): VipAnnouncer {
  const session = new BgpSession(config.session, onEvent);
  session.start();
  return {
    announce: (vip) => {
      const v6 = vip.includes(':');
      session.setRoutes([{ prefix: { family: v6 ? 'ipv6' : 'ipv4', address: vip, length: v6 ? 128 : 32 }, nextHop: config.nextHop }]);
    },
    withdraw: () => session.setRoutes([]),
    close: () => void session.stop('vipcast control-plane stopping'),
  };
}
