// From a Service object (as the API server returns it) to the allocator's ServiceRequest:
// which addresses, pool and sharing key it asks for, by vipcast's, MetalLB's or kube-vip's
// annotations.
import { parseAddress } from '../net/address.js';
import type { Family } from '../net/address.js';
import type { IpFamilyPolicy, ServicePort, ServiceRequest } from './types.js';

/**
 * The annotations vipcast reads, each with MetalLB's equivalents in order of precedence;
 * for requested addresses also kube-vip's, which kube-vip-cloud-provider writes on every
 * Service it gives an address to (spelt with a lower-case "b", as kube-vip spells it).
 */
export const annotations = {
  loadBalancerIPs: ['vipcast.io/loadBalancerIPs', 'metallb.io/loadBalancerIPs', 'metallb.universe.tf/loadBalancerIPs', 'kube-vip.io/loadbalancerIPs'],
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

/** The first of these annotations a Service carries with a non-blank value, and its name. */
function firstAnnotationEntry(service: ServiceLike, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = service.metadata?.annotations?.[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

function firstAnnotation(service: ServiceLike, names: readonly string[]): string | undefined {
  return firstAnnotationEntry(service, names)?.value;
}

/** A requested-addresses annotation, read: its entries as written, and what is wrong with them. */
export interface RequestedIps {
  /** The non-empty entries, trimmed, in the order written. */
  readonly ips: readonly string[];
  /** One sentence per bad entry, naming the annotation and quoting the entry. */
  readonly problems: readonly string[];
}

/**
 * Reads a comma-separated list of requested addresses (`10.0.0.5,fd00::5`). Entries that
 * are not IP addresses are problems, and so is the unspecified address (`0.0.0.0`, `::`),
 * with which kube-vip asks for a DHCP lease: vipcast hands out addresses only from pools.
 * How many addresses of which family a Service may ask for is the allocator's judgement.
 */
export function readRequestedIps(annotation: string, value: string): RequestedIps {
  const ips = value.split(',').map((ip) => ip.trim()).filter((ip) => ip !== '');
  const problems: string[] = [];
  for (const ip of ips) {
    const address = parseAddress(ip);
    if (!address) problems.push(`${annotation}: "${ip}" is not an IP address`);
    else if (address.value === 0n) {
      problems.push(`${annotation}: "${ip}" is the unspecified address (kube-vip's request for a DHCP lease); vipcast hands out addresses only from its pools`);
    }
  }
  return { ips, problems };
}

/** Builds the allocator's view of a Service; namespaceLabels are its namespace's labels. */
export function serviceRequest(service: ServiceLike, namespaceLabels: Readonly<Record<string, string>> = {}): ServiceRequest {
  const namespace = service.metadata?.namespace ?? 'default';
  const spec = service.spec ?? {};
  const listed = firstAnnotationEntry(service, annotations.loadBalancerIPs);
  const read = listed !== undefined ? readRequestedIps(listed.name, listed.value) : undefined;
  const requestedIps = read !== undefined ? read.ips : spec.loadBalancerIP ? [spec.loadBalancerIP.trim()] : [];
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
    requestProblems: read?.problems ?? [],
    requestedPool: firstAnnotation(service, annotations.addressPool),
    sharingKey: firstAnnotation(service, annotations.allowSharedIp),
    ports,
    trafficPolicy: spec.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    backendKey: JSON.stringify(Object.keys(selector).sort().map((k) => [k, selector[k]])),
  };
}
