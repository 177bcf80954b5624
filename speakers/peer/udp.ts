// The peer channel's UDP socket: bound to the node's address and port, handing each datagram
// to a receiver. Sending errors (an unreachable peer) are left to the caller to count.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { PeerEndpoint, PeerSocket } from './mesh.js';

/** Binds a UDP socket on `bind`; resolves once it listens. */
export async function openUdpPeerSocket(bind: PeerEndpoint, onPacket: (packet: Buffer, from: PeerEndpoint) => void, onError: (error: Error) => void): Promise<PeerSocket> {
  const socket = dgram.createSocket({ type: isIPv6(bind.address) ? 'udp6' : 'udp4', reuseAddr: false });
  socket.on('message', (packet, rinfo) => onPacket(packet, { address: rinfo.address, port: rinfo.port }));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(bind.port, bind.address, () => {
      socket.off('error', reject);
      socket.on('error', onError);
      resolve();
    });
  });
  let closed = false;
  return {
    send(packet, to) {
      if (closed) return;
      socket.send(packet, to.port, to.address, (error) => {
        if (error) onError(error);
      });
    },
    close() {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}
