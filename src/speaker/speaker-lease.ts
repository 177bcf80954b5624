// The speaker's own Lease, `vipcast-speaker-<node>`: renewed on a timer, carrying the node's
// layer-2 claims in an annotation (ADR 0013). Writes are serialised so each one carries the
// resourceVersion the previous one returned; a 409 re-reads and tries once more.
import type { KubeRest } from '../k8s/rest.js';
import { statusOf } from '../k8s/rest.js';
import { microTime } from '../k8s/lease-client.js';
import { OwnLease, type LeaseRecord } from './lease-clock.js';

/** Annotation holding the claims: JSON `{"claims": [...], "held": [...], "bgp": [...]}`. */
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
export function leaseRecordFrom(lease: SpeakerLeaseObject): (LeaseRecord & { readonly bgp: ReadonlySet<string> }) | undefined {
  const name = lease.metadata.name;
  if (!name.startsWith(speakerLeasePrefix)) return undefined;
  const annotations = lease.metadata.annotations ?? {};
  const exactMs = Number(annotations[durationAnnotation]);
  const durationMs = Number.isFinite(exactMs) && exactMs > 0 ? exactMs : (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
  let claims: string[] = [];
  let held: string[] = [];
  let bgp: string[] = [];
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  try {
    const parsed = JSON.parse(annotations[claimsAnnotation] ?? '{}') as { claims?: unknown; held?: unknown; bgp?: unknown };
    claims = strings(parsed.claims);
    held = strings(parsed.held);
    bgp = strings(parsed.bgp);
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
  };
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

  /** Renews the Lease with these claims; resolves true when the server accepted it. */
  write(claims: ReadonlySet<string>, held: ReadonlySet<string>, release = false): Promise<boolean> {
    const body = this.#body([...claims].sort(), [...held].sort(), release);
    const result = this.#queue.then(() => this.#send(body));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** A consistent read of every speaker Lease (served from etcd, not a cache). */
  async listAll(): Promise<SpeakerLeaseObject[]> {
    const list = await this.rest.get<{ items?: SpeakerLeaseObject[] }>(this.#collection);
    return list.items ?? [];
  }

  async #send(body: SpeakerLeaseObject): Promise<boolean> {
    const sentAt = this.clock();
    try {
      await this.#put(body);
      if (body.spec?.holderIdentity === '') this.own.invalidate();
      else this.own.renewed(sentAt);
      return true;
    } catch {
      this.failures++;
      return false;
    }
  }

  async #put(body: SpeakerLeaseObject): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const saved =
          this.#resourceVersion === undefined
            ? await this.rest.create<SpeakerLeaseObject>(this.#collection, body)
            : await this.rest.replace<SpeakerLeaseObject>(this.#path, { ...body, metadata: { ...body.metadata, resourceVersion: this.#resourceVersion } });
        this.#resourceVersion = saved.metadata.resourceVersion;
        return;
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

  #body(claims: string[], held: string[], release: boolean): SpeakerLeaseObject {
    const now = microTime(new Date());
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        annotations: { [claimsAnnotation]: JSON.stringify({ claims, held, bgp: release ? [] : [...this.bgpAnnounced].sort() }), [durationAnnotation]: String(this.timing.durationMs) },
      },
      spec: {
        holderIdentity: release ? '' : this.node,
        leaseDurationSeconds: Math.max(1, Math.ceil(this.timing.durationMs / 1000)),
        renewTime: now,
      },
    };
  }
}
