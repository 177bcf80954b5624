// What the cluster asks this speaker to announce: a pure function from cached Services,
// EndpointSlices, Nodes and the config to one entry per VIP, with the nodes eligible for it.
// A VIP is considered only when it lies inside a configured pool.
import type { Config, Pool } from '../config/types.js';
import { canonicalAddress, parseAddress, rangeContains } from '../net/address.js';
import { eligibleNodes, ineligibility, type NodeFacts, type VipFacts } from './eligibility.js';

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

type Meta = { name?: string; namespace?: string; resourceVersion?: string; uid?: string; labels?: Record<string, string> };

function keptMeta(metadata: Meta | undefined, labels: boolean): Meta {
  const m = metadata ?? {};
  return {
    ...(m.name === undefined ? {} : { name: m.name }),
    ...(m.namespace === undefined ? {} : { namespace: m.namespace }),
    ...(m.resourceVersion === undefined ? {} : { resourceVersion: m.resourceVersion }),
    ...(m.uid === undefined ? {} : { uid: m.uid }),
    ...(labels && m.labels !== undefined ? { labels: m.labels } : {}),
  };
}

/**
 * What the speaker's caches keep of each object (issue 18): the fields the views above read,
 * the uid Events need, and the resourceVersion the informer compares. A Service, an
 * EndpointSlice or a Node is often ten times that.
 */
export const speakerKeeps = {
  service: (object: object): object => {
    const o = object as { metadata?: Meta; spec?: Record<string, unknown>; status?: { loadBalancer?: { ingress?: { ip?: string }[] } } };
    const spec = o.spec ?? {};
    return {
      metadata: keptMeta(o.metadata, false),
      spec: { type: spec['type'], loadBalancerClass: spec['loadBalancerClass'], externalTrafficPolicy: spec['externalTrafficPolicy'] },
      status: { loadBalancer: { ingress: (o.status?.loadBalancer?.ingress ?? []).map((i) => ({ ip: i.ip })) } },
    };
  },
  endpointSlice: (object: object): object => {
    const o = object as { metadata?: Meta; endpoints?: { nodeName?: string; conditions?: { ready?: boolean } }[] };
    return {
      metadata: keptMeta(o.metadata, true),
      endpoints: (o.endpoints ?? []).map((e) => ({ nodeName: e.nodeName, conditions: { ready: e.conditions?.ready } })),
    };
  },
  node: (object: object): object => {
    const o = object as { metadata?: Meta; status?: { conditions?: { type?: string; status?: string }[] } };
    return {
      metadata: keptMeta(o.metadata, true),
      status: { conditions: (o.status?.conditions ?? []).filter((c) => c.type === 'Ready').map((c) => ({ type: c.type, status: c.status })) },
    };
  },
};

/** One VIP to consider, with everything needed to decide who announces it. */
export interface DesiredVip {
  readonly ip: string;
  /** `namespace/name` of the Services using this IP (several when shared). */
  readonly services: readonly string[];
  readonly pool: Pool;
  /** Nodes that may announce it. */
  readonly eligible: ReadonlySet<string>;
  /**
   * This node would be eligible but for its own link (down, or none to announce on). Only
   * this node knows that, so it publishes these VIPs in its Lease for the others (ADR 0022).
   */
  readonly linkDown: boolean;
}

/** Inputs of {@link desiredVips}. */
export interface DesiredInputs {
  readonly config: Config;
  readonly services: Iterable<ServiceView>;
  readonly endpointSlices: Iterable<EndpointSliceView>;
  readonly nodes: Iterable<NodeView>;
  /** The speaker's own node. */
  readonly self: string;
  /**
   * The layer-2 VIPs (canonical text) this node has no link up to announce on, read from
   * the kernel by the caller before deciding (layer2Vips lists the ones to look at); every
   * other VIP counts as having its link.
   */
  readonly linkDown: ReadonlySet<string>;
  /** Also serve Services of this loadBalancerClass (besides those with none). */
  readonly loadBalancerClass?: string | undefined;
}

/** Reads a Node into the facts eligibility needs. */
export function nodeFacts(node: NodeView): NodeFacts {
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  return { name: node.metadata.name ?? '', ready, labels: node.metadata.labels ?? {} };
}

/** Per config (a new object on every change), what each address text resolved to: its pool and canonical text. */
const lookups = new WeakMap<Config, Map<string, { readonly pool: Pool; readonly text: string } | null>>();

/** The pool and canonical text of an ingress address, remembered per config. */
function lookUp(config: Config, ip: string): { readonly pool: Pool; readonly text: string } | undefined {
  let known = lookups.get(config);
  if (!known) lookups.set(config, (known = new Map<string, { readonly pool: Pool; readonly text: string } | null>()));
  let found = known.get(ip);
  if (found === undefined) {
    const pool = poolOf(config, ip);
    const text = pool && canonicalAddress(ip);
    found = pool && text !== undefined ? { pool, text } : null;
    if (known.size >= 200_000) known.clear(); // bounded: addresses come and go
    known.set(ip, found);
  }
  return found ?? undefined;
}

/** The pool whose ranges contain the address, if any. */
export function poolOf(config: Config, ip: string): Pool | undefined {
  const address = parseAddress(ip);
  if (!address) return undefined;
  return config.pools.find((pool) => pool.ranges.some((range) => rangeContains(range, address)));
}

/**
 * The layer-2 VIPs Services of ours hold (canonical text, with their pool): the ones whose
 * link the caller reads from the kernel before calling desiredVips. Links matter to layer 2
 * only: a BGP route leaves by whatever the session uses.
 */
export function layer2Vips(config: Config, services: Iterable<ServiceView>, loadBalancerClass: string | undefined): Map<string, Pool> {
  const vips = new Map<string, Pool>();
  for (const service of services) {
    if (service.spec?.type !== 'LoadBalancer') continue;
    const cls = service.spec.loadBalancerClass;
    if (cls !== undefined && cls !== loadBalancerClass) continue;
    for (const ingress of service.status?.loadBalancer?.ingress ?? []) {
      const found = ingress.ip === undefined ? undefined : lookUp(config, ingress.ip);
      if (found?.pool.protocol === 'layer2') vips.set(found.text, found.pool);
    }
  }
  return vips;
}

/** Every VIP the cluster wants announced, keyed by IP. */
export function desiredVips(inputs: DesiredInputs): Map<string, DesiredVip> {
  const nodes = [...inputs.nodes].map(nodeFacts);
  const self = nodes.find((node) => node.name === inputs.self);
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
      const found = lookUp(inputs.config, ingress.ip);
      if (!found) continue;
      const { pool, text } = found;
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
  // Cluster-policy VIPs of one pool share their eligible nodes (and link state): computed
  // once per pool, not once per VIP, which at 5,000 VIPs was most of a decision's time.
  const shared = new Map<string, Set<string>>();
  for (const [ip, entry] of byIp) {
    const facts: VipFacts = { pool: entry.pool, externalTrafficPolicy: entry.local ? 'Local' : 'Cluster', readyEndpointNodes: entry.ready };
    const linkUp = !inputs.linkDown.has(ip);
    const key = entry.local ? undefined : `${entry.pool.name}\0${linkUp}`;
    let eligible = key === undefined ? undefined : shared.get(key);
    if (!eligible) {
      eligible = eligibleNodes(nodes, facts, inputs.self, linkUp);
      if (key !== undefined) shared.set(key, eligible);
    }
    const linkDown = !linkUp && self !== undefined && ineligibility(self, facts, false) === 'link-down';
    result.set(ip, { ip, services: entry.services.sort(), pool: entry.pool, eligible, linkDown });
  }
  return result;
}
