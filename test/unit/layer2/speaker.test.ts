import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { decodeArpFrame } from '../../../speakers/layer2/codec/arp.js';
import { decodeNdpFrame } from '../../../speakers/layer2/codec/ndp.js';
import { malformedTotal } from '../../../speakers/layer2/responder.js';
import { Layer2Speaker, solicitationGroupMac } from '../../../speakers/layer2/speaker.js';
import type { Layer2SpeakerOptions } from '../../../speakers/layer2/speaker.js';
import { FakeScheduler, fakeLink } from '../../helpers/fake-link.js';
import { CLIENT_MAC, arpRequest, neighborSolicitation } from '../../helpers/layer2-requests.js';

const MAC = '02:00:00:00:00:0a';

function speakerOn(mac = MAC, options: Layer2SpeakerOptions = {}, clock = new FakeScheduler()) {
  const link = fakeLink(clock);
  const speaker = new Layer2Speaker(mac, link.open, { scheduler: clock, ...options });
  const arp = link.sockets.get(0x0806);
  const ndp = link.sockets.get(0x86dd);
  if (!arp || !ndp) throw new Error('the speaker did not open both sockets');
  /** Frames sent after the takeover burst, i.e. replies. */
  const replies = () => [...arp.sent, ...ndp.sent].slice(0).filter((f) => f.bytes[0] !== 0xff && !(f.bytes[0] === 0x33 && f.bytes[5] === 1));
  return { speaker, arp, ndp, clock, replies };
}

describe('Layer2Speaker: who gets an answer', () => {
  it('answers ARP and NS only for VIPs it holds, and stops the moment it releases them', () => {
    const { speaker, arp, ndp, replies } = speakerOn();
    arp.receive(arpRequest('192.0.2.100'));
    ndp.receive(neighborSolicitation('2001:db8::100'));
    expect(replies()).toHaveLength(0);
    speaker.announce('192.0.2.100');
    speaker.announce('2001:db8::100');
    arp.receive(arpRequest('192.0.2.100'));
    ndp.receive(neighborSolicitation('2001:db8::100'));
    arp.receive(arpRequest('192.0.2.101'));
    expect(replies()).toHaveLength(2);
    expect(decodeArpFrame(arp.sent.at(-1)?.bytes ?? Buffer.alloc(0)).arp).toMatchObject({ operation: 'reply', senderIp: '192.0.2.100', senderMac: MAC });
    expect(decodeNdpFrame(ndp.sent.at(-1)?.bytes ?? Buffer.alloc(0)).packet.message).toMatchObject({ solicited: true, override: true, target: '2001:db8::100' });
    speaker.release('192.0.2.100');
    speaker.release('2001:db8::100');
    arp.receive(arpRequest('192.0.2.100'));
    ndp.receive(neighborSolicitation('2001:db8::100'));
    expect(replies()).toHaveLength(2);
    const counters = speaker.counters().responder;
    expect(counters.answered).toBe(2);
    expect(counters.dropped['not-owned']).toBe(5);
  });

  it('answers only on the interface the VIP is announced on', () => {
    const one = speakerOn('02:00:00:00:00:01');
    const two = speakerOn('02:00:00:00:00:02');
    one.speaker.announce('192.0.2.100');
    two.arp.receive(arpRequest('192.0.2.100'));
    one.arp.receive(arpRequest('192.0.2.100'));
    expect(two.replies()).toHaveLength(0);
    expect(one.replies()).toHaveLength(1);
  });

  it('joins the solicited-node group of each IPv6 VIP and leaves it on release, sharing groups between VIPs', () => {
    const { speaker, ndp } = speakerOn();
    const group = solicitationGroupMac('2001:db8::1:100').replace(/:/g, '');
    expect(group).toBe('3333ff010100');
    speaker.announce('2001:db8::1:100');
    speaker.announce('2001:db8:ffff::1:100'); // same low 24 bits, same group
    expect([...ndp.groups]).toEqual([group]);
    expect(ndp.joins).toEqual([group]);
    speaker.release('2001:db8::1:100');
    expect([...ndp.groups]).toEqual([group]);
    speaker.release('2001:db8:ffff::1:100');
    expect([...ndp.groups]).toEqual([]);
  });

  it('drops an NS with hop limit 64 and counts it', () => {
    const { speaker, ndp, replies } = speakerOn();
    speaker.announce('2001:db8::100');
    ndp.receive(neighborSolicitation('2001:db8::100', { hopLimit: 64 }));
    expect(replies()).toHaveLength(0);
    expect(speaker.counters().responder.dropped['hop-limit']).toBe(1);
  });

  it('survives truncated, garbage and wrong-length frames, counting each by reason', () => {
    const { speaker, arp, ndp, replies } = speakerOn();
    speaker.announce('192.0.2.100');
    speaker.announce('2001:db8::100');
    const request = arpRequest('192.0.2.100');
    const wrongLength = Buffer.from(request);
    wrongLength[18] = 4; // hardware address length 4
    const ns = neighborSolicitation('2001:db8::100');
    const badPayloadLength = Buffer.from(ns);
    badPayloadLength.writeUInt16BE(200, 14 + 4);
    for (const frame of [request.subarray(0, 30), wrongLength, Buffer.alloc(0), Buffer.alloc(5, 0xff)]) arp.receive(frame);
    for (const frame of [ns.subarray(0, 60), badPayloadLength]) ndp.receive(frame);
    expect(replies()).toHaveLength(0);
    const counters = speaker.counters().responder;
    expect(malformedTotal(counters)).toBe(6);
    expect(counters.malformed.truncated).toBeGreaterThanOrEqual(3);
    expect(counters.malformed['unsupported-hardware']).toBe(1);
    expect(counters.internalErrors).toBe(0);
    arp.receive(request);
    expect(replies()).toHaveLength(1);
  });

  it('refuses addresses no host may own, and accepts any text form of a valid one', () => {
    const { speaker } = speakerOn();
    for (const bad of ['224.0.0.1', '0.0.0.0', '255.255.255.255', '127.0.0.1', 'ff02::1', '::', '::1', '192.0.2', 'eth0']) {
      expect(() => speaker.announce(bad), bad).toThrow(RangeError);
    }
    expect(speaker.announce('2001:DB8:0::0:100')).toEqual({ family: 6, address: '2001:db8::100' });
    expect(speaker.announced()).toEqual(['2001:db8::100']);
  });

  it('close() releases everything, stops announcing and closes both sockets', () => {
    const { speaker, arp, ndp, clock } = speakerOn();
    speaker.announce('192.0.2.100');
    speaker.announce('2001:db8::100');
    const sent = arp.sent.length + ndp.sent.length;
    speaker.close();
    clock.advance(60_000);
    expect(arp.sent.length + ndp.sent.length).toBe(sent);
    expect(clock.pending()).toBe(0);
    expect(arp.closed && ndp.closed).toBe(true);
    expect(() => speaker.announce('192.0.2.100')).toThrow(/closed/);
  });
});

describe('Layer2Speaker: rate limit', () => {
  it('holds one requester to its burst and rate, while another requester is still answered', () => {
    const limits = { perRequester: { perSecond: 10, burst: 20 }, global: { perSecond: 1000, burst: 1000 }, maxTracked: 100 };
    const { speaker, arp, clock, replies } = speakerOn(MAC, { limits });
    speaker.announce('192.0.2.100');
    for (let i = 0; i < 100; i++) arp.receive(arpRequest('192.0.2.100'));
    expect(replies()).toHaveLength(20);
    arp.receive(arpRequest('192.0.2.100', '192.0.2.10', '02:00:00:00:00:c2'));
    expect(replies()).toHaveLength(21);
    clock.advance(1000);
    for (let i = 0; i < 100; i++) arp.receive(arpRequest('192.0.2.100'));
    expect(replies()).toHaveLength(31);
    expect(speaker.counters().responder).toMatchObject({ answered: 31, rateLimited: 170 });
    expect(decodeArpFrame(replies()[0]?.bytes ?? Buffer.alloc(0)).ethernet.destination).toBe(CLIENT_MAC);
  });

  it('caps all replies on the link when every request comes from a different (forged) MAC', () => {
    const limits = { perRequester: { perSecond: 10, burst: 20 }, global: { perSecond: 100, burst: 50 }, maxTracked: 64 };
    const { speaker, ndp, clock, replies } = speakerOn(MAC, { limits });
    speaker.announce('2001:db8::100');
    const forged = (i: number) => `02:00:00:99:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
    for (let i = 0; i < 1000; i++) ndp.receive(neighborSolicitation('2001:db8::100', { senderMac: forged(i) }));
    expect(replies()).toHaveLength(50);
    clock.advance(500);
    for (let i = 1000; i < 2000; i++) ndp.receive(neighborSolicitation('2001:db8::100', { senderMac: forged(i) }));
    expect(replies()).toHaveLength(100);
    expect(speaker.counters().responder.rateLimited).toBe(1900);
  });
});
