// What the allocator is asked and what it answers. Plain data: the Kubernetes layer turns
// Service objects into ServiceRequests (see request.ts).
import type { Family } from '../net/address.js';

/** A Service port as far as sharing an IP is concerned. */
export interface ServicePort {
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
}

/** Kubernetes' `spec.ipFamilyPolicy`. */
export type IpFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

/** Everything the allocator needs to know about one Service. */
export interface ServiceRequest {
  /** `namespace/name`. */
  readonly key: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly namespaceLabels: Readonly<Record<string, string>>;
  /** `spec.ipFamilies`, primary first. */
  readonly ipFamilies: readonly Family[];
  readonly ipFamilyPolicy: IpFamilyPolicy;
  /** Addresses the Service asks for (annotation or `spec.loadBalancerIP`), as written. */
  readonly requestedIps: readonly string[];
  /** What is wrong with the requested-addresses annotation, one sentence per bad entry; empty when nothing is. */
  readonly requestProblems: readonly string[];
  /** The pool the Service asks for by annotation. */
  readonly requestedPool: string | undefined;
  /** The `allow-shared-ip` key; Services with the same key may share an address. */
  readonly sharingKey: string | undefined;
  readonly ports: readonly ServicePort[];
  /** `spec.externalTrafficPolicy`. */
  readonly trafficPolicy: 'Cluster' | 'Local';
  /** The Service's pod selector in a canonical form; Local Services share only with equal ones. */
  readonly backendKey: string;
}

/** Why a Service got no address, as a tagged union with the details an Event needs. */
export type AllocationFailure =
  | { readonly reason: 'invalid-request'; readonly message: string }
  | { readonly reason: 'unknown-pool'; readonly pool: string }
  | { readonly reason: 'pool-not-allowed'; readonly pool: string; readonly why: string }
  | { readonly reason: 'ip-not-in-pool'; readonly ip: string; readonly pool: string | undefined }
  | { readonly reason: 'ip-in-use'; readonly ip: string; readonly by: readonly string[]; readonly why: string }
  | { readonly reason: 'no-pool'; readonly families: readonly Family[] }
  | { readonly reason: 'pool-exhausted'; readonly pools: readonly string[]; readonly families: readonly Family[] };

/** The addresses a Service holds and the pool they come from. */
export interface Assignment {
  readonly pool: string;
  /** Canonical text forms, in the order of the Service's ipFamilies. */
  readonly ips: readonly string[];
}

/** The allocator's answer for one Service. */
export type AllocationResult =
  | { readonly ok: true; readonly assignment: Assignment; readonly changed: boolean }
  | { readonly ok: false; readonly failure: AllocationFailure };

/** An assignment the allocator dropped, and why (after a config change or on restore). */
export interface Invalidation {
  readonly key: string;
  readonly assignment: Assignment;
  readonly reason: string;
}

/** One sentence describing a failure, for Events and logs. */
export function describeFailure(failure: AllocationFailure): string {
  switch (failure.reason) {
    case 'invalid-request':
      return failure.message;
    case 'unknown-pool':
      return `pool "${failure.pool}" does not exist`;
    case 'pool-not-allowed':
      return `pool "${failure.pool}" is not open to this Service: ${failure.why}`;
    case 'ip-not-in-pool':
      return failure.pool === undefined ? `${failure.ip} is not in any pool` : `${failure.ip} is not in pool "${failure.pool}"`;
    case 'ip-in-use':
      return `${failure.ip} is in use by ${failure.by.join(', ')} (${failure.why})`;
    case 'no-pool':
      return `no pool offers ${failure.families.join(' and ')} addresses to this Service`;
    case 'pool-exhausted':
      return `no ${failure.families.join('/')} address left in pool${failure.pools.length === 1 ? '' : 's'} ${failure.pools.map((p) => `"${p}"`).join(', ')}`;
  }
}
