// From a Service object (as the API server returns it) to the allocator's ServiceRequest:
// which addresses, pool and sharing key it asks for, by vipcast's or MetalLB's annotations.
import type { Family } from '../net/address.js';
import type { IpFamilyPolicy, ServicePort, ServiceRequest } from './types.js';

/** The annotations vipcast reads, each with MetalLB's equivalents in order of precedence. */
export const annotations = {
  loadBalancerIPs: ['vipcast.io/loadBalancerIPs', 'metallb.io/loadBalancerIPs', 'metallb.universe.tf/loadBalancerIPs'],
  addressPool: ['vipcast.io/address-pool', 'metallb.io/address-pool', 'metallb.universe.tf/address-pool'],
  allowSharedIp: ['vipcast.io/allow-shared-ip', 'metallb.io/allow-shared-ip', 'metallb.universe.tf/allow-shared-ip'],
} as const;

/** The parts of a core/v1 Service the allocator looks at. */
export interface ServiceLike {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
    loadBalancerIP?: string;
    externalTrafficPolicy?: string;
    selector?: Record<string, string>;
    ports?: { port?: number; protocol?: string }[];
  };
}

function firstAnnotation(service: ServiceLike, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = service.metadata?.annotations?.[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

/** Builds the allocator's view of a Service; namespaceLabels are its namespace's labels. */
export function serviceRequest(service: ServiceLike, namespaceLabels: Readonly<Record<string, string>> = {}): ServiceRequest {
  const namespace = service.metadata?.namespace ?? 'default';
  const spec = service.spec ?? {};
  const listed = firstAnnotation(service, annotations.loadBalancerIPs);
  const requestedIps = listed !== undefined ? listed.split(',').map((ip) => ip.trim()).filter((ip) => ip !== '') : spec.loadBalancerIP ? [spec.loadBalancerIP.trim()] : [];
  const ipFamilies = (spec.ipFamilies ?? []).filter((f): f is Family => f === 'IPv4' || f === 'IPv6');
  const policies: IpFamilyPolicy[] = ['SingleStack', 'PreferDualStack', 'RequireDualStack'];
  const ipFamilyPolicy = policies.find((p) => p === spec.ipFamilyPolicy) ?? 'SingleStack';
  const ports: ServicePort[] = (spec.ports ?? []).map((p) => ({
    port: p.port ?? 0,
    protocol: p.protocol === 'UDP' || p.protocol === 'SCTP' ? p.protocol : 'TCP',
  }));
  const selector = spec.selector ?? {};
  return {
    key: `${namespace}/${service.metadata?.name ?? ''}`,
    namespace,
    labels: service.metadata?.labels ?? {},
    namespaceLabels,
    ipFamilies: ipFamilies.length > 0 ? ipFamilies : ['IPv4'],
    ipFamilyPolicy,
    requestedIps,
    requestedPool: firstAnnotation(service, annotations.addressPool),
    sharingKey: firstAnnotation(service, annotations.allowSharedIp),
    ports,
    trafficPolicy: spec.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    backendKey: JSON.stringify(Object.keys(selector).sort().map((k) => [k, selector[k]])),
  };
}
