// Puts the control-plane VIP on the interface and tells the network, or takes it away. The
// address goes on through netlink (IPv4 /32, IPv6 /128 with IFA_F_NODAD) with a short valid
// lifetime that every renewal refreshes, so a holder that dies without cleaning up loses the
// address in the kernel by itself (ADR 0011, 0012).
import { addAddress, deleteAddress, interfaceIndex, listAddresses } from '../net/netlink.js';

/** Tells the network who holds the VIP: layer 2 (gratuitous ARP / unsolicited NA) or BGP. */
export interface VipAnnouncer {
  /** Starts announcing the VIP from this node (a takeover burst, then refreshes). */
  announce(vip: string): void;
  /** Stops announcing it at once. */
  withdraw(vip: string): void;
  /** Stops everything; the announcer cannot be used again. */
  close(): void;
}

/** What the holder needs of the kernel; the netlink functions by default, a fake in unit tests. */
export interface AddressTable {
  /** Adds the address, or refreshes its lifetime when it is there. */
  put(ifindex: number, vip: string, prefixLength: number, validSeconds: number): void;
  /** Removes the address; returns whether it was there. */
  remove(ifindex: number, vip: string, prefixLength: number): boolean;
  /** Whether the address is on the interface. */
  has(ifindex: number, vip: string): boolean;
}

/** The kernel's address table through netlink. */
export const netlinkAddressTable: AddressTable = {
  put: (ifindex, vip, prefixLength, validSeconds) => addAddress(ifindex, vip, prefixLength, { validSeconds, replace: true }),
  remove: (ifindex, vip, prefixLength) => deleteAddress(ifindex, vip, prefixLength),
  has: (ifindex, vip) => listAddresses(ifindex).some((a) => a.address === vip),
};

/** Holds or drops one VIP on one interface. */
export class VipHolder {
  private holding = false;
  private readonly prefixLength: number;
  readonly ifindex: number;

  /**
   * @param interfaceName where the VIP goes
   * @param vip canonical address text
   * @param lifetimeSeconds valid lifetime given at each hold()/refresh()
   */
  constructor(
    readonly interfaceName: string,
    readonly vip: string,
    private readonly lifetimeSeconds: number,
    private readonly announcer: VipAnnouncer,
    private readonly table: AddressTable = netlinkAddressTable,
    ifindex?: number,
  ) {
    this.ifindex = ifindex ?? interfaceIndex(interfaceName);
    this.prefixLength = vip.includes(':') ? 128 : 32;
  }

  /** Whether this node holds the VIP now. */
  get held(): boolean {
    return this.holding;
  }

  /** Removes a VIP a previous run left behind (after a crash); returns whether there was one. */
  clearStale(): boolean {
    return this.table.remove(this.ifindex, this.vip, this.prefixLength);
  }

  /** Takes the VIP: address first, then the announcement, so that arriving traffic finds it. Refreshes when held. */
  hold(): void {
    this.table.put(this.ifindex, this.vip, this.prefixLength, this.lifetimeSeconds);
    if (this.holding) return;
    this.holding = true;
    this.announcer.announce(this.vip);
  }

  /** Gives the VIP up: the announcement stops first, then the address goes. Returns whether it was held. */
  drop(): boolean {
    const was = this.holding;
    this.holding = false;
    if (was) this.announcer.withdraw(this.vip);
    this.table.remove(this.ifindex, this.vip, this.prefixLength);
    return was;
  }

  /** Drops the VIP and closes the announcer. */
  close(): void {
    this.drop();
    this.announcer.close();
  }
}
