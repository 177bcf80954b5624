// Interface addresses through rtnetlink, via vipcast's small addon
// (native/netlink.cc): add or delete one address, list addresses and links,
// find the interface the kernel routes an address through, and watch links, addresses,
// routes and rules change. No `ip` process is spawned. Adding and deleting need
// CAP_NET_ADMIN. See docs/adr/0011-netlink-address-management.md.
import { loadNativeAddon } from '../../speakers/common/native-addon.js';
import { formatIpv4, formatIpv6, parseIp } from '../../speakers/common/ip-text.js';

/** IFA_F_NODAD (linux/if_addr.h): an IPv6 address skips duplicate address detection. */
export const IFA_F_NODAD = 0x02;
/** IFA_F_TENTATIVE (linux/if_addr.h): an IPv6 address still under duplicate address detection. */
export const IFA_F_TENTATIVE = 0x40;
/** RTN_UNICAST (linux/rtnetlink.h): a route to a gateway or a directly connected network. */
export const RTN_UNICAST = 1;
/** RTN_LOCAL (linux/rtnetlink.h): the route type of an address this host owns. */
export const RTN_LOCAL = 2;
/** IFF_UP (linux/if.h): the interface is administratively up. */
export const IFF_UP = 0x1;
/** IFF_LOOPBACK (linux/if.h). */
export const IFF_LOOPBACK = 0x8;
/** IFF_RUNNING (linux/if.h): the interface has carrier (as the driver reports it). */
export const IFF_RUNNING = 0x40;
/** IF_OPER_UP (RFC 2863 ifOperStatus, linux/if.h). */
export const IF_OPER_UP = 6;
/** IF_OPER_UNKNOWN: the driver reports no operational state (lo, tun, some virtual links). */
export const IF_OPER_UNKNOWN = 0;

/** One address on an interface, as the kernel lists it. */
export interface InterfaceAddress {
  /** Interface index. */
  readonly index: number;
  /** Address family. */
  readonly family: 4 | 6;
  /** Canonical text (RFC 5952 for IPv6). */
  readonly address: string;
  /** Prefix length. */
  readonly prefixLength: number;
  /** IFA_F_* flags. */
  readonly flags: number;
  /** Seconds of valid lifetime left; undefined for a permanent address. */
  readonly validSeconds: number | undefined;
}

/** How {@link addAddress} adds an address. */
export interface AddAddressOptions {
  /** Seconds after which the kernel removes the address unless it is added again; forever when omitted. */
  readonly validSeconds?: number;
  /** Update an address that is already there (its lifetime) instead of failing with EEXIST. */
  readonly replace?: boolean;
}

interface RawAddress {
  index: number;
  family: 4 | 6;
  address: Buffer;
  prefixLength: number;
  flags: number;
  validSeconds: number;
}

/** One network interface, as the kernel lists it. */
export interface Link {
  readonly index: number;
  readonly name: string;
  /** IFF_* flags. */
  readonly flags: number;
  /** RFC 2863 operational state (IF_OPER_*). */
  readonly operstate: number;
}

/** A running watch of the kernel's links, addresses, routes and rules. */
export interface NetworkWatch {
  close(): void;
}

interface NetlinkAddon {
  addAddress(ifindex: number, address: Buffer, prefixLength: number, flags: number, validSeconds: number, replace: boolean): void;
  deleteAddress(ifindex: number, address: Buffer, prefixLength: number): boolean;
  listAddresses(): RawAddress[];
  routeTo(address: Buffer): { index: number; type: number };
  interfaceIndex(name: string): number;
  interfaceName(index: number): string | undefined;
  listLinks(): Link[];
  LinkWatch: new (onChange: (messages: number, overflowed: boolean) => void) => NetworkWatch;
}

function loadAddon(): NetlinkAddon {
  return loadNativeAddon<NetlinkAddon>('netlink', "vipcast's netlink addon is not built");
}

function formatBytes(bytes: Buffer): string {
  return bytes.length === 4 ? formatIpv4(bytes) : formatIpv6(bytes);
}

/** The index of a network interface; throws when there is none of that name. */
export function interfaceIndex(name: string): number {
  const index = loadAddon().interfaceIndex(name);
  if (index === 0) throw new Error(`no network interface named ${JSON.stringify(name)}`);
  return index;
}

/** The name of the interface with this index, or undefined. */
export function interfaceName(index: number): string | undefined {
  return loadAddon().interfaceName(index);
}

/**
 * Adds an address to an interface (RTM_NEWADDR). IPv6 addresses are added with IFA_F_NODAD
 * so they are usable at once. Throws with the kernel's errno (EEXIST unless `replace`).
 */
export function addAddress(ifindex: number, address: string, prefixLength: number, options: AddAddressOptions = {}): void {
  const bytes = parseIp(address);
  const flags = bytes.length === 16 ? IFA_F_NODAD : 0;
  const valid = options.validSeconds ?? 0;
  if (!Number.isInteger(valid) || valid < 0) throw new RangeError(`validSeconds must be a whole number ≥ 0, not ${valid}`);
  loadAddon().addAddress(ifindex, bytes, prefixLength, flags, valid, options.replace ?? false);
}

/** Deletes an address from an interface (RTM_DELADDR); returns whether it was there. */
export function deleteAddress(ifindex: number, address: string, prefixLength: number): boolean {
  return loadAddon().deleteAddress(ifindex, parseIp(address), prefixLength);
}

/** Every IPv4 and IPv6 address of this network namespace (RTM_GETADDR dump), optionally of one interface. */
export function listAddresses(ifindex?: number): InterfaceAddress[] {
  return loadAddon()
    .listAddresses()
    .filter((a) => ifindex === undefined || a.index === ifindex)
    .map((a) => ({
      index: a.index,
      family: a.family,
      address: formatBytes(a.address),
      prefixLength: a.prefixLength,
      flags: a.flags,
      validSeconds: a.validSeconds === 0xffffffff ? undefined : a.validSeconds,
    }));
}

/** The interface (index, and name when it has one) and route type the kernel picks to reach an address (RTM_GETROUTE). */
export function routeTo(address: string): { index: number; name: string | undefined; type: number } {
  const route = loadAddon().routeTo(parseIp(address));
  return { ...route, name: route.index > 0 ? interfaceName(route.index) : undefined };
}

/** Every network interface of this network namespace (RTM_GETLINK dump). */
export function listLinks(): Link[] {
  return loadAddon().listLinks();
}

/**
 * Whether a link can carry frames: administratively up and operationally up, or up with
 * carrier where the driver reports no operational state (lo, tun and some virtual links).
 */
export function linkCarries(link: Pick<Link, 'flags' | 'operstate'>): boolean {
  if ((link.flags & IFF_UP) === 0) return false;
  if (link.operstate === IF_OPER_UP) return true;
  return link.operstate === IF_OPER_UNKNOWN && (link.flags & IFF_RUNNING) !== 0;
}

/**
 * Calls `onChange` whenever the kernel reports a change of a link, an address, a route or a
 * routing rule in this network namespace: once per burst, with how many messages came and
 * whether some were lost (the socket overflowed). The caller looks afresh; nothing is parsed.
 */
export function watchNetwork(onChange: (messages: number, overflowed: boolean) => void): NetworkWatch {
  const { LinkWatch } = loadAddon();
  return new LinkWatch(onChange);
}
