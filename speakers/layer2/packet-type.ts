// The packet types Linux reports for each received frame (struct sockaddr_ll sll_pkttype,
// linux/if_packet.h): whether the frame was addressed to this host, to broadcast, to a
// multicast group, or to another host and seen only because the port is promiscuous.

/** Kernel packet types (linux/if_packet.h PACKET_HOST ... PACKET_OTHERHOST) a received frame can have. */
export const packetType = { host: 0, broadcast: 1, multicast: 2, otherHost: 3 } as const;
