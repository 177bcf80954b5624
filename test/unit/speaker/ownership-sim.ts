// A deterministic world for the real layer-2 ownership code (ADR 0017): Layer2Ownership,
// SpeakerLease and PeerMesh, unchanged, driven by a discrete-event scheduler. Each node has its
// own clock (offset and rate); a linearizable fake API server applies each request at one
// instant between its send and its answer (which may come late, or be lost after the write
// took effect); watch events arrive late and out of order, even after a newer LIST; the peer
// channel loses, delays, duplicates and reorders packets. Nodes crash, freeze (SIGSTOP: their
// callbacks wait until they resume), stop gracefully and restart, lose the API alone or with
// everyone, and are cut off from peers. After every event the checker asks every running node,
// on its own clock, whether it may answer for each VIP: two at once is a violation.
import { randomBytes } from 'node:crypto';
import type { KubeRest } from '../../../src/k8s/rest.js';
import { KubeApiError } from '../../../src/k8s/rest.js';
import { Layer2Ownership, apiOkAgeMs } from '../../../src/speaker/layer2-ownership.js';
import { SpeakerLease, type SpeakerLeaseObject } from '../../../src/speaker/speaker-lease.js';
import { PeerMesh, type PeerEndpoint, type PeerTimers } from '../../../speakers/peer/mesh.js';
import { defaultPeerTiming, type PeerTiming } from '../../../speakers/peer/quorum.js';
import { prng } from '../peer/mesh-world.js';

interface Event {
  readonly at: number;
  readonly seq: number;
  readonly node: SimNode | undefined;
  readonly incarnation: number;
  readonly fn: () => void;
  cancelled?: boolean;
}

/** One speaker process on one node, as the world sees it. */
export interface SimNode {
  readonly name: string;
  readonly index: number;
  readonly rate: number;
  readonly offset: number;
  /** Bumped on every restart: callbacks of an earlier process are dropped. */
  incarnation: number;
  state: 'running' | 'frozen' | 'crashed' | 'stopped';
  apiDown: boolean;
  /** Its link is down: it sees itself ineligible for every VIP and declines them (ADR 0022). */
  linkDown: boolean;
  ownership: Layer2Ownership;
  mesh: PeerMesh;
  /** Callbacks that came due while frozen, run on resume. */
  deferred: Event[];
}

/** What the world may do wrong, for the knockout tests. */
export interface WorldOptions {
  readonly nodes: number;
  readonly seed: number;
  readonly vips: readonly string[];
  readonly peerTiming?: PeerTiming;
  /** Largest relative clock-rate difference (0.05: rates within ±5 %). */
  readonly rateSpread?: number;
  /** The checker believes a node's held set instead of asking it (the synchronous gate off). */
  readonly trustHeldSets?: boolean;
}

/** A violation found by the checker. */
export interface Violation {
  readonly at: number;
  readonly vip: string;
  readonly nodes: readonly string[];
}

/** The world. */
export class World {
  now = 0;
  readonly nodes: SimNode[] = [];
  readonly violations: Violation[] = [];
  readonly random: () => number;
  /** Peer packets from a to b are dropped while `${a}>${b}` is in here. */
  readonly cut = new Set<string>();
  apiDownForAll = false;
  /** When set, what the speakers log and do, with the time: for debugging a seed. */
  trace: string[] | undefined;
  /** Chances of peer-channel faults per packet. */
  loss = 0.02;
  duplication = 0.02;
  /** Chance that an API request sits 0.5-2.5 s before the server applies it, and that its answer is lost. */
  apiLate = 0.03;
  apiAnswerLost = 0.02;
  readonly #queue: Event[] = [];
  #seq = 0;
  readonly #store = new Map<string, SpeakerLeaseObject>();
  #revision = 0;
  readonly #key = randomBytes(32);

  constructor(readonly options: WorldOptions) {
    this.random = prng(options.seed);
    const spread = options.rateSpread ?? 0.05;
    for (let i = 0; i < options.nodes; i++) {
      const node = { name: `node-${i + 1}`, index: i, rate: 1 + (this.random() * 2 - 1) * spread, offset: this.random() * 1e6, incarnation: 0, state: 'stopped', apiDown: false, linkDown: false, deferred: [] } as unknown as SimNode;
      this.nodes.push(node);
    }
  }

  /** Node-local monotonic time. */
  localTime(node: SimNode): number {
    return node.offset + node.rate * this.now;
  }

  /** Schedules `fn` at global time `at`, on behalf of `node` (dropped if that process is gone). */
  at(at: number, node: SimNode | undefined, fn: () => void, incarnation = node?.incarnation ?? 0): Event {
    const event: Event = { at: Math.max(at, this.now), seq: ++this.#seq, node, incarnation, fn };
    // A binary heap would be faster; the queue stays a few thousand long, so insertion suffices.
    let lo = 0;
    let hi = this.#queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = this.#queue[mid]!;
      if (e.at < event.at || (e.at === event.at && e.seq < event.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.#queue.splice(lo, 0, event);
    return event;
  }

  #timers(node: SimNode): PeerTimers {
    return {
      setTimeout: (fn, ms) => this.at(this.now + Math.max(0, ms) / node.rate, node, fn),
      clearTimeout: (handle) => {
        if (handle) (handle as Event).cancelled = true;
      },
    };
  }

  /** Starts (or restarts) the speaker process of a node. */
  start(node: SimNode): void {
    node.incarnation++;
    node.state = 'running';
    node.deferred = [];
    const clock = (): number => this.localTime(node);
    const timers = this.#timers(node);
    const lease = new SpeakerLease(this.#rest(node), 'vipcast-system', node.name, { durationMs: 1800, renewIntervalMs: 500, marginMs: 200 }, clock);
    const endpoint: PeerEndpoint = { address: `192.0.2.${node.index + 1}`, port: 7947 };
    lease.peer = endpoint;
    const incarnation = node.incarnation;
    const owner: { ownership?: Layer2Ownership } = {};
    const mesh = new PeerMesh({
      self: node.name,
      key: this.#key,
      timing: this.options.peerTiming ?? defaultPeerTiming,
      clock,
      timers,
      incarnation: BigInt(node.incarnation),
      socket: { send: (packet, to) => this.#sendPeer(node, incarnation, packet, to), close: () => undefined },
      apiOkAgeMs: () => apiOkAgeMs(lease, clock()),
      onChange: () => owner.ownership?.peerChanged(),
    });
    const note = (line: string): void => {
      if (this.trace) this.trace.push(`${this.now.toFixed(1)} ${node.name}#${incarnation} ${line}`);
    };
    const ownership = new Layer2Ownership(
      lease,
      clock,
      { answer: (vip) => note(`answer ${vip}`), silence: (vip, reason) => note(`silence ${vip} ${reason}`), log: (message, fields) => note(`${message} ${JSON.stringify(fields)}`) },
      mesh,
      {},
      timers,
    );
    owner.ownership = ownership;
    node.ownership = ownership;
    node.mesh = mesh;
    ownership.start();
    this.#setVips(node);
    // The informer's initial LIST.
    for (const lease of this.#store.values()) this.#deliverWatch(node, lease, 1 + this.random() * 20);
  }

  /** Takes a node's link down or brings it up; only that node sees it, as on a real one. */
  setLinkDown(node: SimNode, down: boolean): void {
    node.linkDown = down;
    if (node.state === 'running') this.#setVips(node);
  }

  /** What the node's runtime would hand its ownership: every node eligible, itself too unless its link is down. */
  #setVips(node: SimNode): void {
    const eligible = new Set(this.nodes.filter((n) => n !== node || !node.linkDown).map((n) => n.name));
    node.ownership.setVips(new Map(this.options.vips.map((vip) => [vip, eligible])), new Set(node.linkDown ? this.options.vips : []));
  }

  #sendPeer(from: SimNode, incarnation: number, packet: Buffer, to: PeerEndpoint): void {
    if (from.incarnation !== incarnation || from.state !== 'running') return;
    const target = this.nodes.find((n) => n.index + 1 === Number(to.address.split('.')[3]));
    if (!target || this.cut.has(`${from.name}>${target.name}`) || this.random() < this.loss) return;
    const copies = this.random() < this.duplication ? 2 : 1;
    const source: PeerEndpoint = { address: `192.0.2.${from.index + 1}`, port: 7947 };
    for (let i = 0; i < copies; i++) {
      // 0.1-3 ms, now and then 30 ms: packets overtake each other.
      const delay = this.random() < 0.05 ? 30 * this.random() : 0.1 + 3 * this.random();
      this.at(this.now + delay, target, () => target.mesh.receive(packet, source));
    }
  }

  #apiDown(node: SimNode): boolean {
    return this.apiDownForAll || node.apiDown;
  }

  #deliverWatch(node: SimNode, lease: SpeakerLeaseObject, delay: number): void {
    const copy = structuredClone(lease);
    this.at(this.now + delay, node, () => {
      if (!this.#apiDown(node)) node.ownership.observeLease(copy);
    });
  }

  /** The fake API server as one node's KubeRest: each request takes effect at one instant. */
  #rest(node: SimNode): KubeRest {
    const call = <T>(method: string, path: string, apply: () => T): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        // The answer belongs to the process that asked: a restarted one never gets it.
        const asker = node.incarnation;
        const sentDown = this.#apiDown(node);
        // Usually a few ms each way; now and then a request sits 0.5-2.5 s before the server
        // applies it (a renewal accepted after the sender's own validity ended).
        const toServer = this.random() < this.apiLate ? 500 + 2000 * this.random() : 1 + 15 * this.random();
        const back = 1 + 15 * this.random();
        const timeout = 1100 / node.rate;
        const fail = (): void => reject(new KubeApiError(method, path, 0, undefined));
        if (sentDown) {
          this.at(this.now + Math.min(timeout, 20 + 200 * this.random()), node, fail, asker);
          return;
        }
        let done = false;
        // Answers and timeouts reach the process (a frozen one gets them when it resumes);
        // the server applies the request whatever the process is doing.
        const timer = this.at(
          this.now + timeout,
          node,
          () => {
            if (!done) {
              done = true;
              fail();
            }
          },
          asker,
        );
        const sentAt = this.now;
        this.at(this.now + toServer, undefined, () => {
          if (this.#apiDown(node)) return; // lost on the way: the timeout answers
          this.trace?.push(`${this.now.toFixed(1)} APPLY ${node.name} ${method} sent ${sentAt.toFixed(1)}`);
          let result: { ok: true; value: T } | { ok: false; error: Error };
          try {
            result = { ok: true, value: apply() };
          } catch (error) {
            result = { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
          }
          // The answer may be lost after the write took effect.
          if (this.random() < this.apiAnswerLost) return;
          this.at(
            this.now + back,
            node,
            () => {
              if (done) return;
              done = true;
              timer.cancelled = true;
              if (result.ok) resolve(result.value);
              else reject(result.error);
            },
            asker,
          );
        });
      });
    const save = (body: SpeakerLeaseObject, create: boolean): SpeakerLeaseObject => {
      const name = body.metadata.name;
      const current = this.#store.get(name);
      if (create && current) throw new KubeApiError('POST', name, 409, {});
      if (!create && (!current || current.metadata.resourceVersion !== body.metadata.resourceVersion)) throw new KubeApiError('PUT', name, current ? 409 : 404, {});
      const saved = structuredClone({ ...body, metadata: { ...body.metadata, resourceVersion: String(++this.#revision) } });
      this.#store.set(name, saved);
      this.trace?.push(`${this.now.toFixed(1)} STORE ${name} rv ${saved.metadata.resourceVersion} ${saved.metadata.annotations?.['vipcast.io/layer2-claims'] ?? ''}`);
      for (const other of this.nodes) {
        if (other.state === 'crashed' || other.state === 'stopped') continue;
        // Mostly prompt; now and then a second late, after newer events and LISTs.
        this.#deliverWatch(other, saved, this.random() < 0.05 ? 1000 * this.random() : 1 + 30 * this.random());
      }
      return structuredClone(saved);
    };
    return {
      get: <T>(path: string) =>
        call('GET', path, () => {
          if (path.endsWith('/leases')) return { items: [...this.#store.values()].map((l) => structuredClone(l)) } as T;
          const lease = this.#store.get(decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)));
          if (!lease) throw new KubeApiError('GET', path, 404, {});
          return structuredClone(lease) as T;
        }),
      create: <T>(path: string, body: unknown) => call('POST', path, () => save(body as SpeakerLeaseObject, true) as T),
      replace: <T>(path: string, body: unknown) => call('PUT', path, () => save(body as SpeakerLeaseObject, false) as T),
      mergePatch: () => Promise.reject(new Error('not used')),
    };
  }

  /** The informer's relist after its API came back: every Lease as it is now. */
  relist(node: SimNode): void {
    for (const lease of this.#store.values()) this.#deliverWatch(node, lease, 1 + 20 * this.random());
  }

  /** Hard loss: the process is gone, nothing it scheduled runs. */
  crash(node: SimNode): void {
    node.state = 'crashed';
    node.incarnation++;
  }

  /** SIGSTOP: its callbacks wait; the clocks go on. */
  freeze(node: SimNode): void {
    if (node.state === 'running') node.state = 'frozen';
  }

  /** SIGCONT: everything that came due runs now, in order. */
  resume(node: SimNode): void {
    if (node.state !== 'frozen') return;
    node.state = 'running';
    const due = node.deferred.splice(0);
    for (const event of due) this.at(this.now, node, event.fn);
  }

  /** Planned stop (SIGTERM). */
  stopGracefully(node: SimNode): void {
    if (node.state !== 'running') return;
    node.state = 'stopped';
    void node.ownership.stop().catch(() => undefined);
  }

  /** Runs until global time `until`, checking after every event. */
  async run(until: number): Promise<void> {
    while (this.#queue.length > 0 && this.#queue[0]!.at <= until) {
      const event = this.#queue.shift()!;
      if (event.cancelled) continue;
      this.now = event.at;
      const node = event.node;
      if (node) {
        if (event.incarnation !== node.incarnation) continue;
        if (node.state === 'frozen') {
          node.deferred.push(event);
          continue;
        }
        if (node.state !== 'running' && node.state !== 'stopped') continue;
      }
      event.fn();
      // Let promise continuations (the code under test awaits its API calls) run now.
      await new Promise((resolve) => setImmediate(resolve));
      this.check();
    }
    this.now = until;
  }

  /** Who may answer for each VIP now; records a violation when two may. */
  check(): void {
    for (const vip of this.options.vips) {
      const answering = this.nodes.filter((n) => n.state === 'running' && (this.options.trustHeldSets ? n.ownership.held().has(vip) : n.ownership.mayAnswer(vip))).map((n) => n.name);
      if (answering.length > 1) this.violations.push({ at: this.now, vip, nodes: answering });
    }
  }

  /** The nodes answering for `vip` now. */
  answerers(vip: string): string[] {
    return this.nodes.filter((n) => n.state === 'running' && n.ownership.mayAnswer(vip)).map((n) => n.name);
  }
}
