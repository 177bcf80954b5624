// What the speakers' Leases say, read through the lab's admin credentials: who answers for an
// address, and whether a node's speaker holds its own Lease. A Lease counts while renewed
// within its own duration.
import { kubeExpectOk, kubeRequest, type KubeCredentials } from './kube-client.js';
import { leaseRecordFrom, type SpeakerLeaseObject } from '../speaker/speaker-lease.js';

/** The nodes whose speaker Lease, renewed within its duration, says they answer for `address`. */
export async function holders(admin: KubeCredentials, address: string): Promise<string[]> {
  const list = (await kubeExpectOk(admin, '/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases')) as { items: SpeakerLeaseObject[] };
  return list.items
    .map((lease) => ({ lease, record: leaseRecordFrom(lease) }))
    .filter(({ lease, record }) => record !== undefined && record.held.has(address) && Date.now() - Date.parse(lease.spec?.renewTime ?? '') < record.durationMs)
    .map(({ record }) => record?.node ?? '');
}

/** Whether the node's speaker holds its own Lease, renewed within its duration. */
export async function holdsLease(admin: KubeCredentials, node: string): Promise<boolean> {
  const answer = await kubeRequest(admin, `/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases/vipcast-speaker-${node}`);
  if (answer.status !== 200) return false;
  const lease = JSON.parse(answer.text) as SpeakerLeaseObject;
  const record = leaseRecordFrom(lease);
  return record !== undefined && record.holderIdentity === node && Date.now() - Date.parse(lease.spec?.renewTime ?? '') < record.durationMs;
}
