// The HA tier's cluster: its name, its control-plane VIP and the nodes that may hold it, and
// what both of its files use: the cluster's CA for a client, and the client's /readyz probe
// through the VIP read back. vitest.config.ts gives the tier VIPCAST_CLUSTER=vcha too, for
// test/cluster/cluster.ts's helpers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { HostProcess } from '../../lab/netns.js';
import { labProgram } from '../../lab/paths.js';
import { waitUntil } from '../../lab/netns.js';
import { docker, kubectl, type Client } from '../cluster/cluster.js';

export const haCluster = 'vcha';
/** Outside the bridge's Docker range (.0/26) and the LoadBalancer pools (.200-.249). */
export const haVip = '172.30.0.250';
export const controlPlanes = [`${haCluster}-control-plane`, `${haCluster}-control-plane2`, `${haCluster}-control-plane3`];

/** The cluster's CA in a file of its own, for a client to verify the API servers behind the VIP; remove() deletes it. */
export async function clusterCaFile(): Promise<{ file: string; remove: () => void }> {
  const ca = await docker(['exec', controlPlanes[0] ?? '', 'cat', '/etc/kubernetes/pki/ca.crt']);
  const file = join(mkdtempSync(join(tmpdir(), 'vipcast-ha-')), 'ca.crt');
  writeFileSync(file, ca);
  return { file, remove: () => rmSync(dirname(file), { recursive: true, force: true }) };
}

/** The lab's /readyz probe (lab/programs/readyz-probe.ts) from the client through the VIP, every 50 ms with a 500 ms timeout. */
export function startReadyz(client: Client, caFile: string): HostProcess {
  return client.topo.start(client.host, [process.execPath, labProgram('readyz-probe'), `https://${haVip}:6443/readyz`, caFile, '50', '500']);
}

/** One request of the probe: when it started (ms since the epoch) and whether it was answered 200. */
export interface Attempt {
  readonly at: number;
  readonly ok: boolean;
}

/** The probe's requests started since `from`, in time order. */
export function attempts(probe: HostProcess, from = 0): Attempt[] {
  return probe.lines
    .map((line) => /^(\d+(?:\.\d+)?) (ok|fail)/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ at: Number(m[1]), ok: m[2] === 'ok' }))
    .filter((a) => a.at >= from)
    .sort((a, b) => a.at - b.at);
}

/** Whether the last `count` requests all succeeded. */
export function servedSteadily(list: readonly Attempt[], count: number): boolean {
  return list.length >= count && list.slice(-count).every((x) => x.ok);
}

/** The longest stretch without a successful answer since `from`, in ms. */
export function longestGap(list: readonly Attempt[], from: number): number {
  let lastOk = from;
  let gap = 0;
  for (const a of list) {
    if (!a.ok) continue;
    gap = Math.max(gap, a.at - lastOk);
    lastOk = a.at;
  }
  return gap;
}

/** Waits until kubectl reaches a ready API server through the VIP (after the other file changed the agents, say). */
export async function apiThroughVip(timeoutMs = 180_000): Promise<void> {
  const ready = (): Promise<boolean> => kubectl(['get', '--raw', '/readyz']).then((out) => out.trim() === 'ok', () => false);
  await waitUntil(ready, (ok) => ok, timeoutMs, 1000);
}
