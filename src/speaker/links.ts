// Where this node announces a layer-2 VIP, and whether that link can carry frames, as the
// kernel says over rtnetlink (ADR 0022). The choice is pure (routedInterface); LinkFacts reads
// the kernel once and keeps what it read until the network watch reports a change, so a
// decision over 1,000 VIPs costs one link dump, one address dump and one route lookup per VIP.
import { familyBits, parseAddress } from '../net/address.js';
import { IFF_LOOPBACK, RTN_UNICAST, linkCarries, listAddresses, listLinks, routeTo, type InterfaceAddress, type Link } from '../net/netlink.js';

/** The kernel's answer to "how would you reach this address" (RTM_GETROUTE). */
export interface RouteFact {
  readonly index: number;
  readonly type: number;
}

/**
 * The interface a VIP is announced on when neither its pool nor `--interface` names one:
 * - the interface the kernel routes the VIP through (every table and rule, so policy routing
 *   counts), when that is a unicast route out of a real link;
 * - otherwise (the VIP is local, bound to lo or kube-ipvs0 as kube-proxy does, or nothing
 *   routes it) the link, other than the one the VIP is local on, holding an address whose
 *   prefix covers the VIP: longest prefix first, then lowest index.
 * Undefined when neither finds one.
 */
export function routedInterface(vip: string, route: RouteFact | undefined, addresses: readonly InterfaceAddress[], links: readonly Link[]): string | undefined {
  const byIndex = new Map(links.map((link) => [link.index, link]));
  const routed = route === undefined ? undefined : byIndex.get(route.index);
  if (route?.type === RTN_UNICAST && routed !== undefined && (routed.flags & IFF_LOOPBACK) === 0) return routed.name;
  const target = parseAddress(vip);
  if (!target) return undefined;
  const bits = familyBits(target.family);
  let best: { link: Link; prefixLength: number } | undefined;
  for (const entry of addresses) {
    const link = byIndex.get(entry.index);
    if (!link || (link.flags & IFF_LOOPBACK) !== 0 || link.index === routed?.index) continue;
    const own = parseAddress(entry.address);
    if (!own || own.family !== target.family || entry.prefixLength >= bits) continue;
    const shift = BigInt(bits - entry.prefixLength);
    if (own.value >> shift !== target.value >> shift) continue;
    if (!best || entry.prefixLength > best.prefixLength || (entry.prefixLength === best.prefixLength && link.index < best.link.index)) best = { link, prefixLength: entry.prefixLength };
  }
  return best?.link.name;
}

/** What LinkFacts reads from the kernel; the netlink addon unless a test passes its own. */
export interface KernelNetwork {
  listLinks(): Link[];
  listAddresses(): InterfaceAddress[];
  /** Throws when nothing routes the address (ENETUNREACH). */
  routeTo(address: string): RouteFact;
}

const netlinkKernel: KernelNetwork = { listLinks, listAddresses: () => listAddresses(), routeTo };

/** The kernel's links, addresses and routes as last read; `invalidate()` when they change. */
export class LinkFacts {
  #links: Link[] | undefined;
  #byName: Map<string, Link> | undefined;
  #addresses: InterfaceAddress[] | undefined;
  readonly #routed = new Map<string, string | undefined>();

  constructor(
    private readonly onError: (what: string, error: unknown) => void,
    private readonly kernel: KernelNetwork = netlinkKernel,
  ) {}

  /** Forgets what was read: the kernel reported a change. */
  invalidate(): void {
    this.#links = undefined;
    this.#byName = undefined;
    this.#addresses = undefined;
    this.#routed.clear();
  }

  /** Whether the named interface exists and can carry frames now. */
  carries(name: string): boolean {
    const link = this.#linkMap().get(name);
    return link !== undefined && linkCarries(link);
  }

  /** The interface the kernel would announce the VIP on (see routedInterface). */
  routedInterface(vip: string): string | undefined {
    if (this.#routed.has(vip)) return this.#routed.get(vip);
    let route: RouteFact | undefined;
    try {
      route = this.kernel.routeTo(vip);
    } catch {
      route = undefined; // no route: the address fallback may still find the link
    }
    const name = routedInterface(vip, route, this.#addressList(), this.#linkList());
    this.#routed.set(vip, name);
    return name;
  }

  #linkList(): Link[] {
    this.#links ??= this.#read(() => this.kernel.listLinks(), 'cannot list the network links');
    return this.#links;
  }

  #linkMap(): Map<string, Link> {
    this.#byName ??= new Map(this.#linkList().map((link) => [link.name, link]));
    return this.#byName;
  }

  #addressList(): InterfaceAddress[] {
    this.#addresses ??= this.#read(() => this.kernel.listAddresses(), 'cannot list the interface addresses');
    return this.#addresses;
  }

  /** One dump from the kernel; empty (and reported) when it fails, until the next change. */
  #read<T>(dump: () => T[], what: string): T[] {
    try {
      return dump();
    } catch (error) {
      this.onError(what, error);
      return [];
    }
  }
}
