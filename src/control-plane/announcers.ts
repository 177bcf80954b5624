// The two ways the control-plane leader tells the network it holds the VIP: layer 2 through
// speakers/layer2 (takeover burst of gratuitous ARP / unsolicited NA, periodic refresh, answers)
// or BGP through speakers/bgp (a host route with this node as next hop). The BGP session stays
// up on every node, so a takeover is one UPDATE.
import { Layer2Speaker } from '../../speakers/layer2/speaker.js';
import type { AnnouncementTiming } from '../../speakers/layer2/announcer.js';
import { BgpSession, type SessionConfig, type SessionEvent } from '../../speakers/bgp/session.js';
import type { VipAnnouncer } from './vip-holder.js';
import { familyBits, formatAddress, parseAddress } from '../net/address.js';

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

/**
 * The subnet of one of the interface's addresses that contains the VIP ("192.0.2.0/24"), or
 * undefined. Host prefixes (/32, /128: the VIP itself, or another address) contain nothing else.
 * A BGP-mode VIP inside such a subnet is also reached by hosts on it through ARP/NDP, so its
 * takeovers must be announced on layer 2 as well, or those hosts keep the old holder's MAC.
 */
export function onLinkSubnet(vip: string, addresses: readonly { readonly address: string; readonly prefixLength: number }[]): string | undefined {
  const target = parseAddress(vip);
  if (target === undefined) return undefined;
  const bits = BigInt(familyBits(target.family));
  for (const a of addresses) {
    const own = parseAddress(a.address);
    if (own === undefined || own.family !== target.family || BigInt(a.prefixLength) >= bits) continue;
    const shift = bits - BigInt(a.prefixLength);
    if (own.value >> shift === target.value >> shift) return `${formatAddress({ family: own.family, value: (own.value >> shift) << shift })}/${a.prefixLength}`;
  }
  return undefined;
}

/** Announces through each of the announcers, in order (BGP, then layer 2). */
export function bothAnnouncers(first: VipAnnouncer, second: VipAnnouncer): VipAnnouncer {
  return {
    announce: (vip) => {
      first.announce(vip);
      second.announce(vip);
    },
    withdraw: (vip) => {
      first.withdraw(vip);
      second.withdraw(vip);
    },
    close: () => {
      first.close();
      second.close();
    },
  };
}
