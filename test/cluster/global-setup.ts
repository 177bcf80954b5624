// Prerequisites of the real-cluster tier: a cluster of node containers made by scripts/cluster
// up (Docker, the node and control-plane images, our image from the Dockerfile, kubeadm init and
// join, vipcast installed from manifests/vipcast.yaml unchanged). Any failure fails the tier,
// never skips it. VIPCAST_CLUSTER_REUSE=1 keeps a cluster of that name that is already up, and
// leaves it up afterwards (for working on the tests); otherwise the tier makes its own and
// removes it at the end.
import { spawnSync } from 'node:child_process';
import { clusterName } from './cluster.js';

const reuse = process.env['VIPCAST_CLUSTER_REUSE'] === '1';

function cluster(args: readonly string[], timeoutMs: number): number | null {
  const run = spawnSync('bash', ['scripts/cluster', ...args, '--name', clusterName], { stdio: ['ignore', 'inherit', 'inherit'], timeout: timeoutMs });
  return run.status;
}

export default function setup(): () => void {
  const up = reuse && cluster(['status'], 60_000) === 0;
  if (!up) {
    if (cluster(['down'], 120_000) !== 0) throw new Error(`cluster tier cannot run: scripts/cluster down --name ${clusterName} failed`);
    const status = cluster(['up'], 40 * 60_000);
    if (status !== 0) throw new Error(`cluster tier cannot run: scripts/cluster up --name ${clusterName} failed (exit ${status}); see .cache/cluster/${clusterName}/ and .cache/docker/`);
  }
  return () => {
    if (!reuse) cluster(['down'], 120_000);
  };
}
