// Sending and receiving Ethernet frames on a Linux interface, through vipcast's small
// AF_PACKET addon (native/packet_socket.cc). Needs CAP_NET_RAW; never sets promiscuous mode.
import { loadNativeAddon } from '../common/native-addon.js';
import { encodeBpf } from './bpf.js';
import type { BpfInstruction } from './bpf.js';

/** What the announcer and responder need of a link: tests pass a fake one. */
export interface FrameSocket {
  /** Sends one whole Ethernet frame. */
  send(frame: Buffer): void;
  /** Receives frames sent to this link-layer multicast address too. */
  addMulticast(mac: Buffer): void;
  /** Stops receiving frames sent to this link-layer multicast address. */
  dropMulticast(mac: Buffer): void;
  /** Closes the socket; no frame is delivered afterwards. */
  close(): void;
}

/** An interface's index, hardware address and whether it is up and running. */
export interface LinkInfo {
  readonly index: number;
  readonly mac: Buffer;
  readonly up: boolean;
}

interface Addon {
  PacketSocket: new (ifindex: number, etherType: number, filter: Buffer | null, onFrame: (frame: Buffer, packetType: number) => void) => FrameSocket;
  interfaceInfo(name: string): LinkInfo;
}

function loadAddon(): Addon {
  return loadNativeAddon<Addon>('packet_socket', "vipcast's packet socket addon is not built");
}

/** Index, MAC and state of a network interface. */
export function interfaceInfo(name: string): LinkInfo {
  return loadAddon().interfaceInfo(name);
}

/** The kernel's packet types, as passed to onFrame (linux/if_packet.h). */
export { packetType } from './packet-type.js';

/**
 * Opens a socket for one EtherType on one interface. Frames the filter accepts are passed
 * to onFrame with the kernel's packet type (see packetType); our own transmissions are not.
 */
export function openFrameSocket(
  interfaceName: string,
  etherType: number,
  filter: readonly BpfInstruction[] | undefined,
  onFrame: (frame: Buffer, type: number) => void,
): FrameSocket {
  const { PacketSocket } = loadAddon();
  const { index } = interfaceInfo(interfaceName);
  return new PacketSocket(index, etherType, filter ? encodeBpf(filter) : null, onFrame);
}
