// The speaker's own Lease, `vipcast-speaker-<node>`: renewed on a timer, carrying the node's
// layer-2 claims in an annotation (ADR 0013). Writes are serialised so each one carries the
// resourceVersion the previous one returned; a 409 re-reads and tries once more.
import { isIP } from 'node:net';
import type { KubeRest } from '../k8s/rest.js';
import { statusOf } from '../k8s/rest.js';
import { microTime } from '../k8s/lease-client.js';
import { OwnLease, type SpeakerLeaseRecord } from './lease-clock.js';

/**
 * Annotation holding the claims and the ownership state: JSON `{"claims": [...], "held": [...],
 * "bgp": [...], "declined": [...], "epoch": 3, "members": [...], "peer": "192.0.2.1:7947"}`
 * (ADR 0017; `declined`, present only when not empty: ADR 0022).
 */
export const claimsAnnotation = 'vipcast.io/layer2-claims';
/** Annotation holding the exact lease duration in ms (the spec field has whole seconds). */
export const durationAnnotation = 'vipcast.io/lease-duration-ms';
/** Prefix of speaker Lease names; the node name follows. */
export const speakerLeasePrefix = 'vipcast-speaker-';

/** A Lease as the speaker reads and writes it. */
export interface SpeakerLeaseObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string; acquireTime?: string };
}

/** Reads a speaker Lease into the record the election uses; undefined for other Leases. */
export function leaseRecordFrom(lease: SpeakerLeaseObject): SpeakerRecord | undefined {
  const name = lease.metadata.name;
  if (!name.startsWith(speakerLeasePrefix)) return undefined;
  const annotations = lease.metadata.annotations ?? {};
  const exactMs = Number(annotations[durationAnnotation]);
  const durationMs = Number.isFinite(exactMs) && exactMs > 0 ? exactMs : (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
  let claims: string[] = [];
  let held: string[] = [];
  let bgp: string[] = [];
  let declined: string[] = [];
  let epoch = 0;
  let members: string[] = [];
  let peer: { address: string; port: number } | undefined;
  const voids = new Map<string, number>();
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  try {
    const parsed = JSON.parse(annotations[claimsAnnotation] ?? '{}') as { claims?: unknown; held?: unknown; bgp?: unknown; declined?: unknown; epoch?: unknown; members?: unknown; peer?: unknown; voids?: unknown };
    claims = strings(parsed.claims);
    held = strings(parsed.held);
    bgp = strings(parsed.bgp);
    declined = strings(parsed.declined);
    if (typeof parsed.epoch === 'number' && Number.isInteger(parsed.epoch) && parsed.epoch > 0 && parsed.epoch <= 0xffffffff) epoch = parsed.epoch;
    members = strings(parsed.members);
    if (typeof parsed.peer === 'string') peer = parseEndpoint(parsed.peer);
    if (parsed.voids && typeof parsed.voids === 'object') {
      for (const [node, epoch] of Object.entries(parsed.voids as Record<string, unknown>)) if (typeof epoch === 'number' && Number.isInteger(epoch) && epoch > 0) voids.set(node, epoch);
    }
  } catch {
    // A hand-edited, unreadable annotation claims nothing.
  }
  return {
    node: name.slice(speakerLeasePrefix.length),
    resourceVersion: lease.metadata.resourceVersion ?? '',
    holderIdentity: lease.spec?.holderIdentity ?? '',
    durationMs,
    claims: new Set([...claims, ...held]),
    held: new Set(held),
    bgp: new Set(bgp),
    declined: new Set(declined),
    epoch,
    members,
    peer,
    voids,
  };
}

/** Whether a record follows ADR 0017 (a configuration of three or more and a peer channel). */
export function isPeerQuorumRecord(record: Pick<SpeakerLeaseRecord, 'members' | 'peer'>): boolean {
  return record.members.length >= 3 && record.peer !== undefined;
}

/** How long a peer-quorum Lease may go unrenewed before people's views stop trusting it. */
export const peerQuorumStaleMs = 95_000;

/**
 * The speaker records whose claims stand as far as the Leases alone show, for people and the
 * lab (the speakers themselves judge by their own clocks and the peer channel): held, renewed
 * (by the reader's wall clock `nowMs`) within the Lease's duration plus `slackMs` — or, for a
 * peer-quorum record, within peerQuorumStaleMs — and not voided by another standing record
 * that took over from it.
 */
export function standingRecords(leases: readonly SpeakerLeaseObject[], nowMs: number, slackMs = 0): SpeakerRecord[] {
  const fresh = leases.flatMap((lease) => {
    const record = leaseRecordFrom(lease);
    if (!record || record.holderIdentity === '') return [];
    const age = nowMs - Date.parse(lease.spec?.renewTime ?? '');
    const limit = isPeerQuorumRecord(record) ? peerQuorumStaleMs : record.durationMs + slackMs;
    return Number.isFinite(age) && age < limit ? [record] : [];
  });
  return fresh.filter((record) => !fresh.some((other) => other.node !== record.node && (other.voids.get(record.node) ?? 0) >= record.epoch && record.epoch > 0));
}

/** A speaker Lease as read, with what only `vipcast status` and the lab need. */
export type SpeakerRecord = SpeakerLeaseRecord & { readonly bgp: ReadonlySet<string>; readonly voids: ReadonlyMap<string, number> };

/** `192.0.2.1:7947` or `[2001:db8::1]:7947`; undefined for anything else. */
export function parseEndpoint(text: string): { address: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text);
  const address = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!address || !(port >= 1 && port <= 65535) || isIP(address) === 0) return undefined;
  return { address, port };
}

/** The text form parseEndpoint reads. */
export function formatEndpoint(endpoint: { readonly address: string; readonly port: number }): string {
  return isIP(endpoint.address) === 6 ? `[${endpoint.address}]:${endpoint.port}` : `${endpoint.address}:${endpoint.port}`;
}

/** What one write of the Lease says about the node (ADR 0017). */
export interface SpeakerLeaseState {
  readonly claims: ReadonlySet<string>;
  readonly held: ReadonlySet<string>;
  readonly epoch: number;
  readonly members: readonly string[];
  /** Peers whose claims up to this epoch we hold void and may have taken over (for people). */
  readonly voids?: ReadonlyMap<string, number>;
  /** Layer-2 VIPs we would answer for but for our link (ADR 0022), so others do not wait for us. */
  readonly declined?: ReadonlySet<string>;
}

/** What a write of the Lease came to: the state the server accepted, and when it was sent. */
export interface LeaseWriteResult {
  readonly ok: boolean;
  readonly state?: SpeakerLeaseState;
  readonly sentAt: number;
}

/** Timings of the speaker Lease. */
export interface SpeakerLeaseTiming {
  readonly durationMs: number;
  readonly renewIntervalMs: number;
  readonly marginMs: number;
}

/** Defaults: 1.8 s duration, renewed every 500 ms, 200 ms margin (ADR 0013). */
export const defaultSpeakerLeaseTiming: SpeakerLeaseTiming = { durationMs: 1800, renewIntervalMs: 500, marginMs: 200 };

/** One node's Lease; `write` renews it and publishes the claims at the same time. */
export class SpeakerLease {
  readonly own: OwnLease;
  readonly name: string;
  readonly #path: string;
  readonly #collection: string;
  #resourceVersion: string | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** Writes that failed (timeouts, refusals), for metrics. */
  failures = 0;
  /** The VIPs this node announces by BGP, published with each renewal for `vipcast status`. */
  bgpAnnounced: ReadonlySet<string> = new Set();

  constructor(
    private readonly rest: KubeRest,
    private readonly namespace: string,
    readonly node: string,
    readonly timing: SpeakerLeaseTiming,
    private readonly clock: () => number,
  ) {
    this.own = new OwnLease(timing.durationMs, timing.marginMs);
    this.name = `${speakerLeasePrefix}${node}`;
    this.#collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
    this.#path = `${this.#collection}/${encodeURIComponent(this.name)}`;
  }

  /**
   * Renews the Lease with the state `build` gives when the request is sent (not when it is
   * queued: a write waiting behind slow ones must not carry old claims or an old epoch over
   * newer ones). Resolves with the state the server accepted, or ok: false.
   */
  write(build: () => SpeakerLeaseState, release = false): Promise<LeaseWriteResult> {
    const result = this.#queue.then(() => this.#send(build, release));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** A consistent read of every speaker Lease (served from etcd, not a cache). */
  async listAll(): Promise<SpeakerLeaseObject[]> {
    const list = await this.rest.get<{ items?: SpeakerLeaseObject[] }>(this.#collection);
    return list.items ?? [];
  }

  /** A consistent read of our own Lease, undefined when it does not exist; throws when the API cannot be reached. */
  async readOwn(): Promise<SpeakerLeaseObject | undefined> {
    const sentAt = this.clock();
    try {
      const lease = await this.rest.get<SpeakerLeaseObject>(this.#path);
      this.apiOkAt = Math.max(this.apiOkAt, sentAt);
      return lease;
    } catch (error) {
      if (statusOf(error) === 404) {
        this.apiOkAt = Math.max(this.apiOkAt, sentAt);
        return undefined;
      }
      this.#failedSince(sentAt);
      throw error;
    }
  }

  /** The send time of the last request the API server answered (monotonic; −Infinity for none). */
  apiOkAt = Number.NEGATIVE_INFINITY;
  /** The send time of the first request that failed after the last success, or undefined. */
  apiFailingSince: number | undefined;

  /** The send time of the latest request that failed, or undefined. */
  lastFailureAt: number | undefined;

  #failedSince(sentAt: number): void {
    this.lastFailureAt = Math.max(this.lastFailureAt ?? Number.NEGATIVE_INFINITY, sentAt);
    if (this.apiFailingSince === undefined || this.apiFailingSince < this.apiOkAt) this.apiFailingSince = sentAt;
  }

  async #send(build: () => SpeakerLeaseState, release: boolean): Promise<LeaseWriteResult> {
    const sentAt = this.clock();
    try {
      const state = await this.#put(build, release);
      this.apiOkAt = Math.max(this.apiOkAt, sentAt);
      if (release) this.own.invalidate();
      else this.own.renewed(sentAt);
      return { ok: true, state, sentAt };
    } catch {
      this.failures++;
      this.#failedSince(sentAt);
      return { ok: false, sentAt };
    }
  }

  /** Sends the state `build` gives now; after a 409 or 404 re-reads and sends a fresh one once. */
  async #put(build: () => SpeakerLeaseState, release: boolean): Promise<SpeakerLeaseState> {
    for (let attempt = 0; ; attempt++) {
      const state = build();
      const body = this.#body(state, release);
      try {
        const saved =
          this.#resourceVersion === undefined
            ? await this.rest.create<SpeakerLeaseObject>(this.#collection, body)
            : await this.rest.replace<SpeakerLeaseObject>(this.#path, { ...body, metadata: { ...body.metadata, resourceVersion: this.#resourceVersion } });
        this.#resourceVersion = saved.metadata.resourceVersion;
        return state;
      } catch (error) {
        const status = statusOf(error);
        if (attempt > 0 || (status !== 409 && status !== 404)) throw error;
        // 409: someone (our previous incarnation, a person) changed it; 404: deleted. Re-read.
        const current = await this.rest.get<SpeakerLeaseObject>(this.#path).catch((e: unknown) => {
          if (statusOf(e) === 404) return undefined;
          throw e;
        });
        this.#resourceVersion = current?.metadata.resourceVersion;
      }
    }
  }

  /** Where this speaker listens on the peer channel, published in each write. */
  peer: { readonly address: string; readonly port: number } | undefined;

  #body(state: SpeakerLeaseState, release: boolean): SpeakerLeaseObject {
    const now = microTime(new Date());
    const claims = release ? [] : [...state.claims].sort();
    const held = release ? [] : [...state.held].sort();
    const annotation = {
      claims,
      held,
      bgp: release ? [] : [...this.bgpAnnounced].sort(),
      ...(!release && state.declined && state.declined.size > 0 ? { declined: [...state.declined].sort() } : {}),
      epoch: state.epoch,
      members: [...state.members],
      ...(this.peer ? { peer: formatEndpoint(this.peer) } : {}),
      ...(state.voids && state.voids.size > 0 ? { voids: Object.fromEntries([...state.voids].sort()) } : {}),
    };
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        annotations: { [claimsAnnotation]: JSON.stringify(annotation), [durationAnnotation]: String(this.timing.durationMs) },
      },
      spec: {
        holderIdentity: release ? '' : this.node,
        leaseDurationSeconds: Math.max(1, Math.ceil(this.timing.durationMs / 1000)),
        renewTime: now,
      },
    };
  }
}
