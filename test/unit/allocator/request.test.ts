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

describe('a requested-addresses annotation with bad entries', () => {
  it('carries its problems in the request; a good annotation or spec.loadBalancerIP carries none', () => {
    expect(service('bad', { annotations: { 'vipcast.io/loadBalancerIPs': '10.0.1.5, web' } }).requestProblems).toEqual(['vipcast.io/loadBalancerIPs: "web" is not an IP address']);
    expect(service('good', { annotations: { [kubeVip]: '10.0.1.5' } }).requestProblems).toEqual([]);
    expect(service('spec', { loadBalancerIP: '10.0.1.5' }).requestProblems).toEqual([]);
    expect(service('none').requestProblems).toEqual([]);
  });

  it('is refused as an invalid request naming the annotation and every bad entry', () => {
    // Three entries would also be "at most two addresses"; the entries' own problems come first.
    const s = service('s', { annotations: { [kubeVip]: '10.0.1.5,0.0.0.0,web' } });
    expect(new Allocator(pools).allocate(s)).toEqual({
      ok: false,
      failure: {
        reason: 'invalid-request',
        message:
          'kube-vip.io/loadbalancerIPs: "0.0.0.0" is the unspecified address (kube-vip\'s request for a DHCP lease); vipcast hands out addresses only from its pools; kube-vip.io/loadbalancerIPs: "web" is not an IP address',
      },
    });
  });

  it('takes no address away: a Service that holds one keeps it', () => {
    const allocator = new Allocator(pools);
    const before = allocator.allocate(service('s', { annotations: { [kubeVip]: '10.0.1.7' } }));
    expect(before.ok && before.assignment).toEqual({ pool: 'lan', ips: ['10.0.1.7'] });
    const after = allocator.allocate(service('s', { annotations: { [kubeVip]: '0.0.0.0' } }));
    expect(after.ok ? undefined : after.failure.reason).toBe('invalid-request');
    expect(allocator.assignmentOf('default/s')).toEqual({ pool: 'lan', ips: ['10.0.1.7'] });
    // Nobody else is given it meanwhile.
    const other = allocator.allocate(service('other', { annotations: { [kubeVip]: '10.0.1.7' } }));
    expect(other.ok ? undefined : other.failure.reason).toBe('ip-in-use');
  });
});
