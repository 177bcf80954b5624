// The allocation rules that need no state: which pools admit a Service, which families it
// wants, and whether two Services may share an address.
import type { Pool } from '../config/types.js';
import { anySelectorMatches } from '../config/selector.js';
import type { Family } from '../net/address.js';
import type { ServiceRequest } from './types.js';

/** Why a pool does not admit a Service, or undefined when it does. */
export function poolRefusal(pool: Pool, request: ServiceRequest): string | undefined {
  const byNamespace = pool.namespaces.length > 0 || pool.namespaceSelectors.length > 0;
  if (byNamespace) {
    const listed = pool.namespaces.includes(request.namespace);
    const selected = pool.namespaceSelectors.length > 0 && anySelectorMatches(pool.namespaceSelectors, request.namespaceLabels);
    if (!listed && !selected) return `namespace "${request.namespace}" is not among the pool's namespaces or namespace selectors`;
  }
  if (pool.serviceSelectors.length > 0 && !anySelectorMatches(pool.serviceSelectors, request.labels)) {
    return "the Service's labels match none of the pool's service selectors";
  }
  return undefined;
}

/** Whether a pool limits who may draw from it. */
export function poolIsRestricted(pool: Pool): boolean {
  return pool.namespaces.length > 0 || pool.namespaceSelectors.length > 0 || pool.serviceSelectors.length > 0;
}

/** Whether a pool has addresses of a family. */
export function poolHasFamily(pool: Pool, family: Family): boolean {
  return pool.ranges.some((r) => r.family === family);
}

/** The families a Service wants addresses of, primary first. */
export function wantedFamilies(request: ServiceRequest): Family[] {
  const families = request.ipFamilies.length > 0 ? [...request.ipFamilies] : ['IPv4' as const];
  return request.ipFamilyPolicy === 'SingleStack' ? families.slice(0, 1) : families;
}

/** Why two Services may not share an address, or undefined when they may (MetalLB's rules). */
export function sharingConflict(a: ServiceRequest, b: ServiceRequest): string | undefined {
  if (a.sharingKey === undefined || b.sharingKey === undefined) return 'it is not shared: both Services need the same allow-shared-ip key';
  if (a.sharingKey !== b.sharingKey) return `sharing keys differ ("${a.sharingKey}" and "${b.sharingKey}")`;
  for (const port of a.ports) {
    if (b.ports.some((p) => p.port === port.port && p.protocol === port.protocol)) return `both use port ${port.port}/${port.protocol}`;
  }
  if (a.trafficPolicy !== b.trafficPolicy) return 'one has externalTrafficPolicy Local and the other Cluster';
  if (a.trafficPolicy === 'Local' && a.backendKey !== b.backendKey) {
    return 'with externalTrafficPolicy Local, Services sharing an address must select the same pods';
  }
  return undefined;
}
