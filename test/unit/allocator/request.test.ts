// Requested addresses by annotation: vipcast's, MetalLB's and kube-vip's
// (`kube-vip.io/loadbalancerIPs`, which kube-vip-cloud-provider writes on every Service it
// gives an address to, so Services migrated from it keep their addresses).
import { describe, expect, it } from 'vitest';
import { Allocator } from '../../../src/allocator/allocator.js';
import { readRequestedIps } from '../../../src/allocator/request.js';
import { config, service } from './helpers.js';

const kubeVip = 'kube-vip.io/loadbalancerIPs';
const pools = config('address-pools:\n- {name: lan, protocol: layer2, addresses: [10.0.1.0/24, "fd00::/120"]}\n');

describe('readRequestedIps', () => {
  it('reads a comma-separated list, trimmed, empty entries left out', () => {
    expect(readRequestedIps(kubeVip, ' 10.0.1.5, fd00::5 ,')).toEqual({ ips: ['10.0.1.5', 'fd00::5'], problems: [] });
  });

  it('names the annotation and quotes each entry that is not an address', () => {
    expect(readRequestedIps(kubeVip, '10.0.1.5,10.0.1.x,web').problems).toEqual([
      'kube-vip.io/loadbalancerIPs: "10.0.1.x" is not an IP address',
      'kube-vip.io/loadbalancerIPs: "web" is not an IP address',
    ]);
  });

  it("refuses the unspecified address, kube-vip's request for a DHCP lease", () => {
    for (const ip of ['0.0.0.0', '::']) {
      expect(readRequestedIps(kubeVip, ip).problems).toEqual([`kube-vip.io/loadbalancerIPs: "${ip}" is the unspecified address (kube-vip's request for a DHCP lease); vipcast hands out addresses only from its pools`]);
    }
  });
});

describe('the kube-vip annotation', () => {
  it('requests addresses, dual-stack in ipFamilies order', () => {
    const s = service('s', { families: ['IPv6', 'IPv4'], policy: 'RequireDualStack', annotations: { [kubeVip]: '10.0.1.7,fd00::7' } });
    const result = new Allocator(pools).allocate(s);
    expect(result.ok && result.assignment.ips).toEqual(['fd00::7', '10.0.1.7']);
  });

  it("comes after vipcast's and MetalLB's annotations, and before spec.loadBalancerIP", () => {
    expect(service('a', { annotations: { [kubeVip]: '10.0.1.8', 'metallb.io/loadBalancerIPs': '10.0.1.7' } }).requestedIps).toEqual(['10.0.1.7']);
    expect(service('b', { annotations: { [kubeVip]: '10.0.1.8', 'vipcast.io/loadBalancerIPs': '10.0.1.6' } }).requestedIps).toEqual(['10.0.1.6']);
    expect(service('c', { loadBalancerIP: '10.0.1.9', annotations: { [kubeVip]: '10.0.1.8' } }).requestedIps).toEqual(['10.0.1.8']);
  });
});
