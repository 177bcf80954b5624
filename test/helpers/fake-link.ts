// Fakes for the layer-2 speaker's two dependencies: a clock with timers that only move when
// the test says so, and packet sockets that record what is sent and let tests inject frames.
import type { Buffer } from 'node:buffer';
import type { FrameSocket } from '../../speakers/layer2/packet-io.js';
import type { Scheduler, TimerHandle } from '../../speakers/layer2/scheduler.js';
import type { OpenSocket } from '../../speakers/layer2/speaker.js';

/** A manual clock: time advances only through advance(), firing due timers in order. */
export class FakeScheduler implements Scheduler {
  private time = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + delayMs, callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Timers not yet fired. */
  pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing each timer that falls due, earliest first. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].callback();
    }
    this.time = end;
  }
}

/** A recorded frame with the fake time it was sent at. */
export interface SentFrame {
  readonly at: number;
  readonly bytes: Buffer;
}

/** A fake packet socket: records sends and memberships, and delivers injected frames. */
export class FakeSocket implements FrameSocket {
  readonly sent: SentFrame[] = [];
  readonly groups = new Set<string>();
  readonly joins: string[] = [];
  closed = false;
  failSends = false;

  constructor(
    readonly etherType: number,
    private readonly onFrame: (frame: Buffer) => void,
    private readonly clock: Pick<Scheduler, 'now'>,
  ) {}

  send(frame: Buffer): void {
    if (this.closed) throw new Error('socket is closed');
    if (this.failSends) throw new Error('send: No buffer space available');
    this.sent.push({ at: this.clock.now(), bytes: frame });
  }

  addMulticast(mac: Buffer): void {
    this.groups.add(mac.toString('hex'));
    this.joins.push(mac.toString('hex'));
  }

  dropMulticast(mac: Buffer): void {
    this.groups.delete(mac.toString('hex'));
  }

  close(): void {
    this.closed = true;
  }

  /** Delivers a frame as if it had arrived on the link. */
  receive(frame: Buffer): void {
    if (!this.closed) this.onFrame(frame);
  }
}

/** An OpenSocket that makes FakeSockets, keyed by EtherType (0x0806 ARP, 0x86dd IPv6). */
export function fakeLink(clock: Pick<Scheduler, 'now'>): { open: OpenSocket; sockets: Map<number, FakeSocket> } {
  const sockets = new Map<number, FakeSocket>();
  const open: OpenSocket = (etherType, _filter, onFrame) => {
    const socket = new FakeSocket(etherType, onFrame, clock);
    sockets.set(etherType, socket);
    return socket;
  };
  return { open, sockets };
}
