// The responder as a node on a busy link sees it: frames addressed to other hosts (a bridge
// port or a NIC in promiscuous mode delivers them too), other hosts claiming our VIPs, and
// counters a metrics exporter turns into labelled Prometheus counters.
import type { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { decodeArpFrame, encodeArpFrame, gratuitousArpReply, gratuitousArpRequest } from '../../../speakers/layer2/codec/arp.js';
import type { ArpFrame } from '../../../speakers/layer2/codec/arp.js';
import { decodeNdpFrame, encodeNdpFrame, unsolicitedNeighborAdvertisement } from '../../../speakers/layer2/codec/ndp.js';
import type { NdpFrame } from '../../../speakers/layer2/codec/ndp.js';
import { packetType } from '../../../speakers/layer2/packet-io.js';
import { responderOutcomes } from '../../../speakers/layer2/responder.js';
import { Layer2Speaker } from '../../../speakers/layer2/speaker.js';
import type { Layer2SpeakerOptions, OpenSocket } from '../../../speakers/layer2/speaker.js';
import { FakeScheduler, FakeSocket } from '../../helpers/fake-link.js';
import { CLIENT_MAC, arpRequest, neighborSolicitation } from '../../helpers/layer2-requests.js';

const MAC = '02:00:00:00:00:0a';
const OTHER_HOST = '02:00:00:00:00:0b';
const INTRUDER = '02:00:00:00:00:66';
const VIP4 = '192.0.2.100';
const VIP6 = '2001:db8::100';

/** A speaker on a fake link whose sockets also pass the kernel's packet type, as the addon does. */
function speakerOn(options: Layer2SpeakerOptions = {}) {
  const clock = new FakeScheduler();
  const sockets = new Map<number, { socket: FakeSocket; deliver: (frame: Buffer, type?: number) => void }>();
  const open: OpenSocket = (etherType, _filter, onFrame) => {
    const socket = new FakeSocket(etherType, (frame) => onFrame(frame), clock);
    sockets.set(etherType, { socket, deliver: (frame, type) => onFrame(frame, type) });
    return socket;
  };
  const conflicts: string[] = [];
  const speaker = new Layer2Speaker(MAC, open, { scheduler: clock, onConflict: (vip, mac) => conflicts.push(`${vip} ${mac}`), ...options });
  speaker.announce(VIP4);
  speaker.announce(VIP6);
  const arp = sockets.get(0x0806);
  const ndp = sockets.get(0x86dd);
  if (!arp || !ndp) throw new Error('the speaker did not open both sockets');
  const [arpAnnounced, ndpAnnounced] = [arp.socket.sent.length, ndp.socket.sent.length];
  /** What the speaker sent other than its takeover announcements (no refresh is due in these tests' first seconds). */
  const answers = () => [...arp.socket.sent.slice(arpAnnounced), ...ndp.socket.sent.slice(ndpAnnounced)];
  return { speaker, clock, arp: arp.deliver, ndp: ndp.deliver, answers, conflicts };
}

function arpTo(destination: string, targetIp = VIP4): Buffer {
  const request = decodeArpFrame(arpRequest(targetIp));
  return encodeArpFrame({ ...request, ethernet: { ...request.ethernet, destination } });
}

function nsTo(ethernetDestination: string, ipDestination: string, target = VIP6): Buffer {
  const ns = decodeNdpFrame(neighborSolicitation(target));
  return encodeNdpFrame({ ethernet: { ...ns.ethernet, destination: ethernetDestination }, packet: { ...ns.packet, destination: ipDestination } });
}

function arpClaim(frame: ArpFrame): Buffer {
  return encodeArpFrame(frame);
}

function naClaim(frame: NdpFrame): Buffer {
  return encodeNdpFrame(frame);
}

describe('Responder: only frames meant for this host are answered', () => {
  it('answers a broadcast ARP request and one unicast to its own MAC, but not one unicast to another host', () => {
    const { speaker, arp, answers } = speakerOn();
    arp(arpTo('ff:ff:ff:ff:ff:ff'), packetType.broadcast);
    arp(arpTo(MAC), packetType.host);
    arp(arpTo(OTHER_HOST), packetType.otherHost); // seen only because the port is promiscuous
    arp(arpTo(OTHER_HOST)); // a socket that does not say the packet type
    arp(arpTo('01:00:5e:00:00:01'), packetType.multicast); // ARP is broadcast or unicast, never multicast
    expect(answers().map((f) => decodeArpFrame(f.bytes).ethernet.destination)).toEqual([CLIENT_MAC, CLIENT_MAC]);
    expect(speaker.counters().responder.dropped['not-for-us']).toBe(3);
  });

  it('believes the kernel when it says a frame was for another host, whatever the destination looks like', () => {
    const { speaker, arp, answers } = speakerOn();
    arp(arpTo(MAC), packetType.otherHost); // e.g. the interface's MAC changed after the speaker read it
    expect(answers()).toHaveLength(0);
    expect(speaker.counters().responder.dropped['not-for-us']).toBe(1);
  });

  it("answers an NS sent to the VIP's solicited-node group, to all-nodes, or unicast to its own MAC", () => {
    const { ndp, answers } = speakerOn();
    ndp(neighborSolicitation(VIP6), packetType.multicast);
    ndp(nsTo('33:33:00:00:00:01', 'ff02::1'), packetType.multicast);
    ndp(nsTo(MAC, VIP6), packetType.host); // neighbour unreachability detection probes unicast
    expect(answers().map((f) => decodeNdpFrame(f.bytes).packet.message)).toMatchObject([
      { solicited: true, target: VIP6 },
      { solicited: true, target: VIP6 },
      { solicited: true, target: VIP6 },
    ]);
  });

  it('ignores an NS unicast to another MAC, one to another solicited-node group, and one whose Ethernet group does not match its IPv6 group', () => {
    const { speaker, ndp, answers } = speakerOn();
    ndp(nsTo(OTHER_HOST, VIP6), packetType.otherHost);
    ndp(nsTo(OTHER_HOST, VIP6));
    ndp(nsTo('33:33:ff:00:00:99', 'ff02::1:ff00:99'), packetType.multicast);
    ndp(nsTo('33:33:ff:00:00:99', 'ff02::1:ff00:100'), packetType.multicast);
    expect(answers()).toHaveLength(0);
    expect(speaker.counters().responder.dropped['not-for-us']).toBe(4);
  });
});

describe('Responder: another host claiming a VIP this node holds', () => {
  it('reports gratuitous ARP of both forms, a plain ARP reply and an unsolicited NA from another MAC, and answers none', () => {
    const { speaker, arp, ndp, answers, conflicts } = speakerOn();
    arp(arpClaim(gratuitousArpRequest(VIP4, INTRUDER)), packetType.broadcast);
    arp(arpClaim(gratuitousArpReply(VIP4, INTRUDER)), packetType.broadcast);
    const reply = { operation: 'reply' as const, senderMac: INTRUDER, senderIp: VIP4, targetMac: MAC, targetIp: '192.0.2.1' };
    arp(arpClaim({ ethernet: { destination: MAC, source: INTRUDER }, arp: reply }), packetType.host);
    ndp(naClaim(unsolicitedNeighborAdvertisement(VIP6, INTRUDER)), packetType.multicast);
    expect(conflicts).toEqual([`${VIP4} ${INTRUDER}`, `${VIP6} ${INTRUDER}`]); // one report per claimant and VIP
    expect(answers()).toHaveLength(0);
    expect(speaker.counters().responder.conflicts).toBe(4);
  });

  it('reports a host that uses a held VIP as the sender of its own ARP request or NS', () => {
    const { arp, ndp, conflicts } = speakerOn();
    arp(arpRequest('192.0.2.1', VIP4, INTRUDER), packetType.broadcast);
    const ns = decodeNdpFrame(neighborSolicitation('2001:db8::1', { senderMac: INTRUDER }));
    ndp(encodeNdpFrame({ ...ns, packet: { ...ns.packet, source: VIP6 } }), packetType.multicast);
    expect(conflicts).toEqual([`${VIP4} ${INTRUDER}`, `${VIP6} ${INTRUDER}`]);
  });

  it('does not call its own reflected announcements, claims for VIPs it does not hold, probes or duplicate address detection a conflict', () => {
    const { speaker, arp, ndp, conflicts, answers } = speakerOn();
    arp(arpClaim(gratuitousArpRequest(VIP4, MAC)), packetType.broadcast);
    ndp(naClaim(unsolicitedNeighborAdvertisement(VIP6, MAC)), packetType.multicast);
    arp(arpClaim(gratuitousArpRequest('192.0.2.101', INTRUDER)), packetType.broadcast);
    ndp(naClaim(unsolicitedNeighborAdvertisement('2001:db8::101', INTRUDER)), packetType.multicast);
    arp(arpRequest(VIP4, '0.0.0.0', INTRUDER), packetType.broadcast); // RFC 5227 probe: answered, which defends the VIP
    ndp(neighborSolicitation(VIP6, { source: '::', senderMac: INTRUDER }), packetType.multicast); // DAD: answered likewise
    expect(conflicts).toEqual([]);
    expect(speaker.counters().responder.conflicts).toBe(0);
    expect(answers()).toHaveLength(2);
  });

  it('reports the same claimant for the same VIP at most once a minute, yet counts every claim', () => {
    const { speaker, clock, arp, conflicts } = speakerOn();
    for (let second = 0; second < 130; second++) {
      arp(arpClaim(gratuitousArpRequest(VIP4, INTRUDER)), packetType.broadcast);
      clock.advance(1000);
    }
    expect(conflicts).toEqual([`${VIP4} ${INTRUDER}`, `${VIP4} ${INTRUDER}`, `${VIP4} ${INTRUDER}`]);
    expect(speaker.counters().responder.conflicts).toBe(130);
  });

  it('keeps answering when the conflict hook throws', () => {
    const errors: string[] = [];
    const { arp, answers } = speakerOn({
      onConflict: () => {
        throw new Error('event recorder broke');
      },
      onError: (message) => errors.push(message),
    });
    arp(arpClaim(gratuitousArpRequest(VIP4, INTRUDER)), packetType.broadcast);
    arp(arpRequest(VIP4), packetType.broadcast);
    expect(answers()).toHaveLength(1);
    expect(errors.join()).toMatch(/event recorder broke/);
  });
});

describe('Responder counters for metrics', () => {
  it('puts every received frame under exactly one outcome, named for a Prometheus label', () => {
    const { speaker, arp, ndp } = speakerOn({ limits: { perRequester: { perSecond: 1, burst: 1 }, global: { perSecond: 100, burst: 100 }, maxTracked: 16 } });
    arp(arpRequest(VIP4), packetType.broadcast); // answered
    arp(arpRequest(VIP4), packetType.broadcast); // rate-limited
    arp(arpRequest(VIP4).subarray(0, 20)); // malformed
    ndp(neighborSolicitation(VIP6, { hopLimit: 64 }), packetType.multicast); // hop limit
    arp(arpTo(OTHER_HOST), packetType.otherHost); // not for us
    arp(arpClaim(gratuitousArpReply(VIP4, INTRUDER)), packetType.broadcast); // conflict
    arp(arpRequest('192.0.2.101'), packetType.broadcast); // not owned
    const counters = speaker.counters().responder;
    const outcomes = responderOutcomes(counters);
    expect(outcomes).toMatchObject({ answered: 1, 'rate-limited': 1, malformed: 1, 'hop-limit': 1, 'not-for-us': 1, conflict: 1, 'not-owned': 1 });
    expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(counters.received);
    expect(Object.keys(outcomes).every((k) => /^[a-z]+(-[a-z]+)*$/.test(k))).toBe(true);
  });
});
