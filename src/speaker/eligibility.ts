// Which nodes may announce a VIP (design.md, "Who announces"). Pure: the speaker gathers the
// facts from its caches and its own links, this decides.
import { anySelectorMatches } from '../config/selector.js';
import type { Pool } from '../config/types.js';

/** The label that takes a node out of external load balancing (Kubernetes well-known label). */
export const excludeLabel = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** What the speaker knows about a node from the API. */
export interface NodeFacts {
  readonly name: string;
  /** The node's Ready condition is True. */
  readonly ready: boolean;
  readonly labels: Readonly<Record<string, string>>;
}

/** What the speaker knows about a VIP's Service. */
export interface VipFacts {
  readonly pool: Pool;
  readonly externalTrafficPolicy: 'Cluster' | 'Local';
  /** Nodes with at least one ready endpoint of the Service (from EndpointSlices). */
  readonly readyEndpointNodes: ReadonlySet<string>;
}

/** Why a node may not announce a VIP. */
export type Ineligibility =
  | 'node-not-ready'
  | 'node-excluded'
  | 'node-selector'
  | 'no-local-endpoint'
  | 'link-down';

/** Decides whether a node may announce a VIP; `linkUp` is known only for the speaker's own node. */
export function ineligibility(node: NodeFacts, vip: VipFacts, linkUp = true): Ineligibility | undefined {
  if (!node.ready) return 'node-not-ready';
  if (excludeLabel in node.labels) return 'node-excluded';
  if (vip.pool.nodeSelectors.length > 0 && !anySelectorMatches(vip.pool.nodeSelectors, node.labels)) return 'node-selector';
  if (vip.externalTrafficPolicy === 'Local' && !vip.readyEndpointNodes.has(node.name)) return 'no-local-endpoint';
  if (!linkUp) return 'link-down';
  return undefined;
}

/** The nodes among `nodes` that may announce the VIP; the own node's link state is passed in. */
export function eligibleNodes(nodes: Iterable<NodeFacts>, vip: VipFacts, self: string, ownLinkUp: boolean): Set<string> {
  const eligible = new Set<string>();
  for (const node of nodes) {
    if (ineligibility(node, vip, node.name === self ? ownLinkUp : true) === undefined) eligible.add(node.name);
  }
  return eligible;
}
