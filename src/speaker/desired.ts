// What the cluster asks this speaker to announce: a pure function from cached Services,
// EndpointSlices, Nodes and the config to one entry per VIP, with the nodes eligible for it.
// A VIP is considered only when it lies inside a configured pool.
import type { Config, Pool } from '../config/types.js';
import { canonicalAddress, parseAddress, rangeContains } from '../net/address.js';
import { eligibleNodes, type NodeFacts, type VipFacts } from './eligibility.js';

/** The parts of a Service the speaker reads. */
export interface ServiceView {
  readonly metadata: { readonly namespace?: string; readonly name?: string };
  readonly spec?: { readonly type?: string; readonly loadBalancerClass?: string; readonly externalTrafficPolicy?: string };
  readonly status?: { readonly loadBalancer?: { readonly ingress?: readonly { readonly ip?: string }[] } };
}

/** The parts of an EndpointSlice the speaker reads. */
export interface EndpointSliceView {
  readonly metadata: { readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly endpoints?: readonly { readonly nodeName?: string; readonly conditions?: { readonly ready?: boolean } }[];
}

/** The parts of a Node the speaker reads. */
export interface NodeView {
  readonly metadata: { readonly name?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly status?: { readonly conditions?: readonly { readonly type?: string; readonly status?: string }[] };
}

/** One VIP to consider, with everything needed to decide who announces it. */
export interface DesiredVip {
  readonly ip: string;
  /** `namespace/name` of the Services using this IP (several when shared). */
  readonly services: readonly string[];
  readonly pool: Pool;
  /** Nodes that may announce it. */
  readonly eligible: ReadonlySet<string>;
}

/** Inputs of {@link desiredVips}. */
export interface DesiredInputs {
  readonly config: Config;
  readonly services: Iterable<ServiceView>;
  readonly endpointSlices: Iterable<EndpointSliceView>;
  readonly nodes: Iterable<NodeView>;
  /** The speaker's own node and whether its announcing link is up. */
  readonly self: string;
  readonly ownLinkUp: (pool: Pool) => boolean;
  /** Also serve Services of this loadBalancerClass (besides those with none). */
  readonly loadBalancerClass?: string | undefined;
}

/** Reads a Node into the facts eligibility needs. */
export function nodeFacts(node: NodeView): NodeFacts {
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  return { name: node.metadata.name ?? '', ready, labels: node.metadata.labels ?? {} };
}

/** The pool whose ranges contain the address, if any. */
export function poolOf(config: Config, ip: string): Pool | undefined {
  const address = parseAddress(ip);
  if (!address) return undefined;
  return config.pools.find((pool) => pool.ranges.some((range) => rangeContains(range, address)));
}

/** Every VIP the cluster wants announced, keyed by IP. */
export function desiredVips(inputs: DesiredInputs): Map<string, DesiredVip> {
  const nodes = [...inputs.nodes].map(nodeFacts);
  const readyNodesByService = new Map<string, Set<string>>();
  for (const slice of inputs.endpointSlices) {
    const service = slice.metadata.labels?.['kubernetes.io/service-name'];
    if (service === undefined) continue;
    const key = `${slice.metadata.namespace ?? ''}/${service}`;
    const set = readyNodesByService.get(key) ?? new Set<string>();
    for (const endpoint of slice.endpoints ?? []) {
      // Kubernetes: an unset ready condition means ready.
      if (endpoint.nodeName !== undefined && endpoint.conditions?.ready !== false) set.add(endpoint.nodeName);
    }
    readyNodesByService.set(key, set);
  }

  const byIp = new Map<string, { services: string[]; pool: Pool; local: boolean; ready: Set<string> }>();
  for (const service of inputs.services) {
    if (service.spec?.type !== 'LoadBalancer') continue;
    const cls = service.spec.loadBalancerClass;
    if (cls !== undefined && cls !== inputs.loadBalancerClass) continue;
    const key = `${service.metadata.namespace ?? ''}/${service.metadata.name ?? ''}`;
    const local = service.spec.externalTrafficPolicy === 'Local';
    for (const ingress of service.status?.loadBalancer?.ingress ?? []) {
      if (ingress.ip === undefined) continue;
      const pool = poolOf(inputs.config, ingress.ip);
      if (!pool) continue;
      const text = canonicalAddress(ingress.ip);
      if (text === undefined) continue;
      const entry = byIp.get(text) ?? { services: [], pool, local: false, ready: new Set<string>() };
      entry.services.push(key);
      // A shared IP with any Local Service is announced only where that Service has endpoints.
      if (local) {
        entry.local = true;
        for (const node of readyNodesByService.get(key) ?? []) entry.ready.add(node);
      }
      byIp.set(text, entry);
    }
  }

  const result = new Map<string, DesiredVip>();
  for (const [ip, entry] of byIp) {
    const facts: VipFacts = { pool: entry.pool, externalTrafficPolicy: entry.local ? 'Local' : 'Cluster', readyEndpointNodes: entry.ready };
    const eligible = eligibleNodes(nodes, facts, inputs.self, inputs.ownLinkUp(entry.pool));
    result.set(ip, { ip, services: entry.services.sort(), pool: entry.pool, eligible });
  }
  return result;
}
