// The VIP holder's ordering: address before announcement when taking over, announcement stops
// before the address goes when letting go, and the lifetime is refreshed on every hold().
import { describe, expect, it } from 'vitest';
import { VipHolder, type AddressTable, type VipAnnouncer } from '../../../src/control-plane/vip-holder.js';

function fakes(): { log: string[]; table: AddressTable; announcer: VipAnnouncer } {
  const log: string[] = [];
  const present = new Set<string>();
  return {
    log,
    table: {
      put: (_ifindex, vip, prefix, valid) => {
        log.push(`put ${vip}/${prefix} valid ${valid}`);
        present.add(vip);
      },
      remove: (_ifindex, vip, prefix) => {
        log.push(`remove ${vip}/${prefix}`);
        return present.delete(vip);
      },
      has: (_ifindex, vip) => present.has(vip),
    },
    announcer: {
      announce: (vip) => log.push(`announce ${vip}`),
      withdraw: (vip) => log.push(`withdraw ${vip}`),
      close: () => log.push('close'),
    },
  };
}

describe('VipHolder', () => {
  it('adds the address (IPv4 /32) before announcing, refreshes its lifetime, and withdraws before removing', () => {
    const { log, table, announcer } = fakes();
    const holder = new VipHolder('eth0', '192.0.2.100', 2, announcer, table, 7);
    holder.hold();
    holder.hold();
    expect(holder.held).toBe(true);
    expect(holder.drop()).toBe(true);
    expect(holder.drop()).toBe(false);
    expect(log).toEqual([
      'put 192.0.2.100/32 valid 2',
      'announce 192.0.2.100',
      'put 192.0.2.100/32 valid 2',
      'withdraw 192.0.2.100',
      'remove 192.0.2.100/32',
      'remove 192.0.2.100/32',
    ]);
  });

  it('uses /128 for IPv6 and closes the announcer after dropping', () => {
    const { log, table, announcer } = fakes();
    const holder = new VipHolder('eth0', '2001:db8::100', 2, announcer, table, 7);
    holder.hold();
    holder.close();
    expect(log).toEqual(['put 2001:db8::100/128 valid 2', 'announce 2001:db8::100', 'withdraw 2001:db8::100', 'remove 2001:db8::100/128', 'close']);
  });
});
