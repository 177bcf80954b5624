// Reading and writing one coordination.k8s.io/v1 Lease, behind a small interface so the
// leader elector can be tested without an API server.
import { KubeApiError, statusOf, type KubeRest } from './rest.js';

/** The fields of a Lease's spec that leader election uses. */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime text (RFC 3339, 6 fractional digits). */
  acquireTime?: string;
  /** MicroTime text (RFC 3339, 6 fractional digits). */
  renewTime?: string;
  leaseTransitions?: number;
}

/** A Lease as read from the server. */
export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
}

/** Thrown by {@link LeaseClient} writes that lost a race (HTTP 409). */
export class LeaseConflict extends Error {
  /** Wraps the server's answer. */
  constructor(cause: unknown) {
    super('the Lease was changed by someone else', { cause });
    this.name = 'LeaseConflict';
  }
}

/** Get, create and replace one Lease. */
export interface LeaseClient {
  /** The Lease, or undefined when it does not exist (404). */
  get(): Promise<Lease | undefined>;
  /** Creates the Lease; rejects with LeaseConflict when it already exists. */
  create(spec: LeaseSpec): Promise<Lease>;
  /** Replaces the Lease read at `resourceVersion`; rejects with LeaseConflict when it changed since. */
  replace(resourceVersion: string, spec: LeaseSpec): Promise<Lease>;
}

/** Formats a wall-clock time as a Kubernetes MicroTime string (RFC 3339 with microseconds, UTC). */
export function microTime(date: Date): string {
  return `${date.toISOString().slice(0, -1)}000Z`;
}

/** A {@link LeaseClient} for Lease `namespace/name` over the REST client. */
export function restLeaseClient(rest: KubeRest, namespace: string, name: string): LeaseClient {
  const collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  const path = `${collection}/${encodeURIComponent(name)}`;
  const body = (spec: LeaseSpec, resourceVersion?: string): Lease => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
    spec,
  });
  const conflictAware = async (write: Promise<Lease>): Promise<Lease> => {
    try {
      return await write;
    } catch (error) {
      if (statusOf(error) === 409) throw new LeaseConflict(error);
      throw error;
    }
  };
  return {
    get: async () => {
      try {
        return await rest.get<Lease>(path);
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 404) return undefined;
        throw error;
      }
    },
    create: (spec) => conflictAware(rest.create<Lease>(collection, body(spec))),
    replace: (resourceVersion, spec) => conflictAware(rest.replace<Lease>(path, body(spec, resourceVersion))),
  };
}
