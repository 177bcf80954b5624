// Prerequisites of the HA control-plane tier (issue 16): a cluster of three control-plane node
// containers and a worker, bootstrapped through vipcast's control-plane VIP by scripts/cluster
// up --control-planes 3 --vip (the static Pod `vipcast manifest control-plane` prints is in
// place before kubeadm init and each kubeadm join --control-plane). A failure fails the tier.
// VIPCAST_CLUSTER_REUSE=1 keeps and leaves a cluster of that name, as in the cluster tier.
import { spawnSync } from 'node:child_process';
import { haCluster, haVip } from './ha.js';

const reuse = process.env['VIPCAST_CLUSTER_REUSE'] === '1';

function cluster(args: readonly string[], timeoutMs: number): number | null {
  return spawnSync('bash', ['scripts/cluster', ...args, '--name', haCluster], { stdio: ['ignore', 'inherit', 'inherit'], timeout: timeoutMs }).status;
}

export default function setup(): () => void {
  const up = reuse && cluster(['status'], 60_000) === 0;
  if (!up) {
    if (cluster(['down'], 120_000) !== 0) throw new Error(`HA tier cannot run: scripts/cluster down --name ${haCluster} failed`);
    const status = cluster(['up', '--control-planes', '3', '--workers', '1', '--vip', haVip], 40 * 60_000);
    if (status !== 0) throw new Error(`HA tier cannot run: scripts/cluster up --control-planes 3 --vip ${haVip} failed (exit ${status}); see .cache/cluster/${haCluster}/`);
  }
  return () => {
    if (!reuse) cluster(['down'], 120_000);
  };
}
