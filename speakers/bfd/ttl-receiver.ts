// Receiving UDP datagrams together with their IP TTL / IPv6 hop limit, which node:dgram never
// shows, through vipcast's udp_ttl addon (native/udp_ttl.cc). Single-hop BFD
// needs it to discard packets that did not come from a directly connected system (RFC 5881
// section 5). See docs/adr/0018-bfd-ttl-check.md.
import { loadNativeAddon } from '../common/native-addon.js';

/** Where to receive. */
export interface TtlReceiverOptions {
  /** Local address to bind, the wildcard of its family included. */
  readonly address: string;
  readonly port: number;
  /** Set SO_REUSEADDR before binding. */
  readonly reuseAddr?: boolean;
}

/** A bound receive socket; close() stops delivery at once. */
export interface TtlReceiver {
  close(): void;
}

/** Called per datagram; `ttl` is the TTL or hop limit it arrived with, -1 if the kernel gave none. */
export type TtlMessageHandler = (datagram: Buffer, from: string, ttl: number) => void;

interface Addon {
  UdpReceiver: new (options: TtlReceiverOptions, onMessage: TtlMessageHandler) => TtlReceiver;
}

function loadAddon(): Addon {
  return loadNativeAddon<Addon>('udp_ttl', "BFD's TTL check needs vipcast's native addon");
}

/** Binds a UDP socket (throws if it cannot) and passes every datagram to onMessage with its TTL. */
export function openTtlReceiver(options: TtlReceiverOptions, onMessage: TtlMessageHandler): TtlReceiver {
  const { UdpReceiver } = loadAddon();
  return new UdpReceiver(options, onMessage);
}
