// What the speakers' Leases say, read through the lab's admin credentials: who answers for an
// address, and whether a node's speaker holds its own Lease (standingRecords decides which
// Leases count).
import { kubeExpectOk, kubeRequest, type KubeCredentials } from './kube-client.js';
import { leaseRecordFrom, standingRecords, type SpeakerLeaseObject } from '../src/speaker/speaker-lease.js';

/** The nodes whose speaker Lease stands (standingRecords) and says they answer for `address`. */
export async function holders(admin: KubeCredentials, address: string): Promise<string[]> {
  const list = (await kubeExpectOk(admin, '/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases')) as { items: SpeakerLeaseObject[] };
  return standingRecords(list.items, Date.now())
    .filter((record) => record.held.has(address))
    .map((record) => record.node);
}

/** Whether the node's speaker holds its own Lease and it stands (standingRecords). */
export async function holdsLease(admin: KubeCredentials, node: string): Promise<boolean> {
  const answer = await kubeRequest(admin, `/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases/vipcast-speaker-${node}`);
  if (answer.status !== 200) return false;
  const lease = JSON.parse(answer.text) as SpeakerLeaseObject;
  return standingRecords([lease], Date.now()).some((record) => record.holderIdentity === node);
}

/**
 * The nodes among `running` whose Lease records a configuration of all of them (ADR 0017):
 * with three or more, their peer quorum holds the addresses once every one is listed.
 */
export async function peerQuorumNodes(admin: KubeCredentials, running: readonly string[]): Promise<string[]> {
  const list = (await kubeExpectOk(admin, '/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases')) as { items: SpeakerLeaseObject[] };
  return list.items
    .map(leaseRecordFrom)
    .filter((r) => r !== undefined && running.includes(r.node) && running.every((n) => r.members.includes(n)))
    .map((r) => r?.node ?? '');
}
