// A scripted, misbehaving BGP peer on loopback against `vipcast bgp announce` (compiled, run
// as its own process). Each TCP connection the speaker makes gets the next script: most bring
// the session up properly and then send one broken thing. The speaker must answer with the
// NOTIFICATION RFC 4271 section 6 (and RFC 6608, RFC 7606) calls for, never exit, and come
// back with a growing, jittered delay. The broken bytes are written out here by hand.
import { Buffer } from 'node:buffer';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Afi, Framer, Safi, encodeMessage, type BgpMessage, type NotificationMessage, type UpdateMessage } from '../../speakers/bgp/codec/index.js';
import { labProgram } from '../../lab/paths.js';

const agent = labProgram('bgp-announce');
const PEER_ASN = 65001;
const OUR_ASN = 4200000010;

/** One accepted connection, seen from the scripted peer. */
class PeerConnection {
  readonly #framer = new Framer({ fourOctetAs: true });
  readonly #inbox: BgpMessage[] = [];
  readonly #waiters: (() => void)[] = [];
  closed = false;
  readonly acceptedAt = performance.now();

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const r of this.#framer.push(chunk)) if (r.ok) this.#inbox.push(r.message);
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', () => {});
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** The next message of `type` from the speaker, skipping others; undefined if the connection closes first. */
  async next(type: BgpMessage['type'], timeoutMs = 10_000): Promise<BgpMessage | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const i = this.#inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.#inbox.splice(0, i + 1).pop();
      if (this.closed || performance.now() > deadline) return undefined;
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  /** Messages received so far and not yet consumed. */
  pending(): readonly BgpMessage[] {
    return this.#inbox;
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Plays a well-behaved peer up to Established (RFC 4271 section 8.2.2). */
  async establish(holdTime = 6): Promise<void> {
    expect((await this.next('open'))?.type).toBe('open');
    this.send(peerOpen(holdTime));
    this.send(keepalive());
    expect((await this.next('keepalive'))?.type).toBe('keepalive');
  }

  /** Waits for the NOTIFICATION the speaker sends and for it to close the connection. */
  async notification(): Promise<NotificationMessage> {
    const n = await this.next('notification');
    if (n?.type !== 'notification') throw new Error(`no NOTIFICATION; got ${this.#inbox.map((m) => m.type).join(', ')}`);
    await new Promise<void>((r) => (this.closed ? r() : this.socket.once('close', () => r())));
    return n;
  }
}

function peerOpen(holdTime: number, asn = PEER_ASN): Buffer {
  return encodeMessage({
    type: 'open',
    myAs: asn > 0xffff ? 23456 : asn,
    holdTime,
    bgpId: '192.0.2.1',
    capabilities: [
      { kind: 'multiprotocol', afi: Afi.IPv4, safi: Safi.Unicast },
      { kind: 'route-refresh', code: 2 },
      { kind: 'four-octet-as', asn },
    ],
  });
}

const keepalive = (): Buffer => encodeMessage({ type: 'keepalive' });

/** A raw message: all-ones marker (last octet replaced by `marker` if given), the length field as given (default: true length), type, body. */
function raw(type: number, body: number[] = [], opts: { length?: number; marker?: number } = {}): Buffer {
  const out = Buffer.alloc(19 + body.length);
  out.fill(0xff, 0, 16);
  if (opts.marker !== undefined) out[15] = opts.marker;
  out.writeUInt16BE(opts.length ?? out.length, 16);
  out[18] = type;
  Buffer.from(body).copy(out, 19);
  return out;
}

type Script = (c: PeerConnection) => Promise<void>;

describe('vipcast bgp announce against a misbehaving peer', () => {
  const scripts: Script[] = [];
  const connections: PeerConnection[] = [];
  const results: Promise<void>[] = [];
  let server: net.Server;
  let speaker: ChildProcess;
  const lines: string[] = [];

  /** Queues a script for the next connection and resolves when it has run. */
  function expectConnection(script: Script): Promise<void> {
    return new Promise<void>((done, fail) => {
      scripts.push(async (c) => {
        try {
          await script(c);
          done();
        } catch (e) {
          fail(e instanceof Error ? e : new Error(String(e)));
        } finally {
          c.socket.destroy();
        }
      });
    });
  }

  beforeAll(async () => {
    if (!existsSync(agent)) throw new Error(`${agent} is missing: run "npx tsc -p ." (npm run build) first`);
    server = net.createServer((socket) => {
      socket.setNoDelay(true);
      const c = new PeerConnection(socket);
      connections.push(c);
      const script = scripts.shift();
      if (script) results.push(script(c));
      else socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    speaker = spawn('node', [agent, '--peer', '127.0.0.1', '--peer-port', String(port), '--peer-asn', String(PEER_ASN), '--my-asn', String(OUR_ASN),
      '--router-id', '192.0.2.2', '--hold-time', '6', '--prefix', '198.51.100.9'], { stdio: ['ignore', 'pipe', 'pipe'] });
    speaker.stdout?.setEncoding('utf8').on('data', (d: string) => lines.push(...d.split('\n').filter((l) => l !== '')));
  });

  afterAll(async () => {
    if (speaker.exitCode === null) {
      speaker.kill('SIGKILL');
      await new Promise((r) => speaker.once('exit', r));
    }
    server.close();
  });

  const cases: [string, number, number, number[], (c: PeerConnection) => void][] = [
    ['a wrong marker', 1, 1, [], (c) => c.send(raw(4, [], { marker: 0x00 }))],
    ['a length beyond 4096', 1, 2, [0x13, 0x88], (c) => c.send(raw(4, [], { length: 5000 }))],
    ['a length below the header', 1, 2, [0x00, 0x12], (c) => c.send(raw(4, [], { length: 18 }))],
    ['a KEEPALIVE with a body', 1, 2, [0x00, 0x14], (c) => c.send(raw(4, [0]))],
    ['an unknown message type', 1, 3, [9], (c) => c.send(raw(9, [0, 0, 0, 0]))],
    // Withdrawn Routes Length (10) runs past the message: RFC 7606 section 4 keeps session reset here.
    ['an UPDATE whose withdrawn-routes length overruns the message', 3, 1, [], (c) => c.send(raw(2, [0, 10, 24, 10, 0, 0, 0, 0]))],
    // NLRI prefix length 33: the NLRI cannot be parsed, so RFC 7606 section 5.3 keeps session reset.
    ['an UPDATE with an IPv4 prefix longer than 32 bits', 3, 10, [], (c) => c.send(raw(2, [0, 0, 0, 0, 33, 1, 2, 3, 4, 5]))],
    // A second OPEN in Established is an FSM error (RFC 6608 section 3, subcode 3).
    ['an OPEN while Established', 5, 3, [], (c) => c.send(peerOpen(6))],
  ];

  for (const [what, code, subcode, data, misbehave] of cases) {
    it(`answers ${what} with NOTIFICATION ${code}/${subcode} and reconnects`, async () => {
      await expectConnection(async (c) => {
        await c.establish();
        misbehave(c);
        const n = await c.notification();
        expect([n.code, n.subcode]).toEqual([code, subcode]);
        if (data.length > 0) expect([...n.data]).toEqual(data);
      });
      expect(speaker.exitCode).toBeNull();
    });
  }

  it('treats an UPDATE without mandatory attributes as a withdraw and keeps the session (RFC 7606 section 3)', async () => {
    await expectConnection(async (c) => {
      await c.establish(3);
      // NLRI 203.0.113.0/24 with no attributes at all: no ORIGIN, AS_PATH or NEXT_HOP.
      c.send(raw(2, [0, 0, 0, 0, 24, 203, 0, 113]));
      const announced = await c.next('update');
      expect((announced as UpdateMessage | undefined)?.nlri.map((p) => p.address)).toContain('198.51.100.9');
      // Stay for more than a hold time, answering keepalives: no NOTIFICATION, no close.
      const until = performance.now() + 4000;
      while (performance.now() < until) {
        c.send(keepalive());
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(c.closed).toBe(false);
      expect(c.pending().some((m) => m.type === 'notification')).toBe(false);
    });
  });

  it('sends Hold Timer Expired (4/0) when the peer goes silent', async () => {
    await expectConnection(async (c) => {
      await c.establish(3);
      const start = performance.now();
      const n = await c.notification();
      expect([n.code, n.subcode]).toEqual([4, 0]);
      expect(performance.now() - start).toBeGreaterThan(2500);
    });
  });

  it('answers OPEN-stage errors (5/2, 2/2, 2/6) with growing, jittered delays between attempts, then comes back fully', async () => {
    const from = connections.length;
    await expectConnection(async (c) => {
      await c.next('open');
      c.send(peerOpen(6));
      // An UPDATE before the peer's KEEPALIVE: FSM error in OpenConfirm (RFC 6608 section 3).
      c.send(encodeMessage({ type: 'update', withdrawn: [], attributes: {}, nlri: [] }));
      const n = await c.notification();
      expect([n.code, n.subcode]).toEqual([5, 2]);
    });
    await expectConnection(async (c) => {
      await c.next('open');
      c.send(peerOpen(6, 65099));
      const n = await c.notification();
      expect([n.code, n.subcode]).toEqual([2, 2]);
    });
    await expectConnection(async (c) => {
      await c.next('open');
      // Hold time 1 (RFC 4271 section 4.2 allows only 0 or 3 and more); our encoder refuses it, so patch the octets.
      const open = peerOpen(6);
      open.writeUInt16BE(1, 22);
      c.send(open);
      const n = await c.notification();
      expect([n.code, n.subcode]).toEqual([2, 6]);
    });
    await expectConnection(async (c) => {
      await c.establish();
      const update = (await c.next('update')) as UpdateMessage | undefined;
      expect(update?.nlri.map((p) => `${p.address}/${p.length}`)).toEqual(['198.51.100.9/32']);
    });
    // Each failure before Established doubles the delay (RFC 4271 8.1.1 DampPeerOscillations), jittered.
    const at = connections.slice(from).map((c) => c.acceptedAt);
    const gaps = at.slice(1).map((t, i) => t - (at[i] ?? 0));
    expect(gaps).toHaveLength(3);
    for (let i = 1; i < gaps.length; i += 1) expect(gaps[i]).toBeGreaterThan((gaps[i - 1] ?? 0) * 1.3);
    expect(lines.filter((l) => l.startsWith('reconnect')).length).toBeGreaterThan(cases.length);
    expect(speaker.exitCode).toBeNull();
    await Promise.all(results);
  }, 60_000);
});

describe('vipcast bgp announce with a route it cannot send', () => {
  it('says which prefix is not announced and why, and announces the rest', async () => {
    if (!existsSync(agent)) throw new Error(`${agent} is missing: run "npx tsc -p ." (npm run build) first`);
    const accepted: PeerConnection[] = [];
    const server = net.createServer((socket) => void accepted.push(new PeerConnection(socket)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    // An IPv6 prefix over an IPv4 session on loopback: lo has no IPv6 address a router could
    // use as next hop, so the route cannot be sent; it must be reported, not dropped quietly.
    const speaker = spawn('node', [agent, '--peer', '127.0.0.1', '--peer-port', String(port), '--peer-asn', String(PEER_ASN), '--my-asn', String(OUR_ASN),
      '--hold-time', '6', '--prefix', '198.51.100.9', '--prefix', '2001:db8::9'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const errors: string[] = [];
    speaker.stderr?.setEncoding('utf8').on('data', (d: string) => errors.push(...d.split('\n').filter((l) => l !== '')));
    try {
      const deadline = performance.now() + 10_000;
      while (accepted.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const c = accepted[0];
      if (!c) throw new Error('the speaker never connected');
      const open = await c.next('open');
      // Our default BGP identifier is our end of the session (MetalLB's default).
      expect(open?.type === 'open' ? open.bgpId : undefined).toBe('127.0.0.1');
      const both = encodeMessage({
        type: 'open', myAs: PEER_ASN, holdTime: 6, bgpId: '192.0.2.1',
        capabilities: [{ kind: 'multiprotocol', afi: Afi.IPv4, safi: Safi.Unicast }, { kind: 'multiprotocol', afi: Afi.IPv6, safi: Safi.Unicast }, { kind: 'four-octet-as', asn: PEER_ASN }],
      });
      c.send(both);
      c.send(keepalive());
      const update = (await c.next('update')) as UpdateMessage | undefined;
      expect(update?.nlri.map((p) => `${p.address}/${p.length}`)).toEqual(['198.51.100.9/32']);
      while (!errors.some((l) => l.startsWith('not-announced')) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(errors.find((l) => l.startsWith('not-announced'))).toMatch(/^not-announced 1: no ipv6 address on the interface of 127\.0\.0\.1 .*: 2001:db8::9\/128$/);
      expect(c.pending().some((m) => m.type === 'update' && m.attributes.mpReach !== undefined)).toBe(false);
    } finally {
      speaker.kill('SIGKILL');
      await new Promise((r) => (speaker.exitCode === null ? speaker.once('exit', r) : r(undefined)));
      server.close();
    }
  });
});
