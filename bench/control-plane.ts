// Control-plane VIP benchmark (needs root, scripts/build-kube's binaries and dist/): in the HA
// lab of lab/ha-lab.ts (three real API servers, one etcd, a client asking /readyz
// through the VIP every 50 ms), the outage the client sees over TRIALS trials each of: the
// leader's API server SIGKILLed, the leader's vipcast SIGKILLed, the leader's vipcast
// SIGTERMed. Also counts two-holder overlaps seen by `ip monitor` in all three nodes.
import { distribution as kubeVipDistribution, measureKubeVipControlPlane } from './kube-vip.js';
import { percentile } from './machine.js';
import {
  createHaLab,
  grantAdmins,
  residentMb,
  startAgent,
  startApiServer,
  waitApiReady,
  waitSoleHolder,
  type ControlPlaneNode,
  type HaLab,
} from '../lab/ha-lab.js';
import { holdIntervals, outageOnceServed, overlappingHolds, startProbe, type Witnesses } from '../lab/ha-witnesses.js';
import type { HostProcess } from '../lab/netns.js';

const TRIALS = Number(process.env['VIPCAST_BENCH_TRIALS'] ?? 20);
const LEASE_DURATION_MS = 4000;
const targets = { apiDeathP95Ms: 3000, sigkillMaxMs: LEASE_DURATION_MS + 1000, sigtermMaxMs: 500 };

type Kind = 'api-server death' | 'vipcast SIGKILL' | 'vipcast SIGTERM';

const wallNow = (): number => performance.timeOrigin + performance.now();

async function restartAgent(lab: HaLab, node: ControlPlaneNode): Promise<void> {
  const agent = startAgent(lab, node);
  await agent.waitForLine(/local API server ready/, 30_000);
}

/** One trial: disturb the leader, wait for the VIP to move and the client to be served, return the outage. */
async function trial(lab: HaLab, probe: HostProcess, kind: Kind): Promise<number> {
  const leader = await waitSoleHolder(lab, 20_000);
  const event = wallNow();
  if (kind === 'api-server death') leader.apiserver?.child.kill('SIGKILL');
  else leader.agent?.child.kill(kind === 'vipcast SIGKILL' ? 'SIGKILL' : 'SIGTERM');
  await waitSoleHolder(lab, 20_000, leader.name);
  const outage = await outageOnceServed(probe, event, 10);
  if (kind === 'api-server death') {
    await leader.apiserver?.exited;
    startApiServer(lab, leader);
    await waitApiReady(lab, leader, 90_000);
  } else {
    await leader.agent?.exited;
    await restartAgent(lab, leader);
  }
  return outage.outageMs;
}

function summary(kind: Kind, outages: number[]): string {
  const sorted = [...outages].sort((a, b) => a - b);
  const p = (q: number): number => percentile(sorted, q);
  return `  ${kind.padEnd(17)} n=${sorted.length}  p50 ${p(50)} ms  p95 ${p(95)} ms  max ${sorted[sorted.length - 1] ?? NaN} ms`;
}

/** Runs vipcast's trials, prints the distributions, returns whether the targets were met. */
async function vipcastControlPlane(): Promise<{ met: boolean; results: Map<Kind, number[]> }> {
  console.log(`\ncontrol-plane VIP: ${TRIALS} trials each, lease ${LEASE_DURATION_MS / 1000} s, renew deadline 2 s, retry 0.5 s, /readyz probed every 50 ms`);
  const lab = await createHaLab();
  try {
    console.log(`  three API servers ready in ${lab.apiserversReadyMs} ms, resident ${lab.nodes.map((n) => residentMb(n.apiserver?.pid ?? 0)).join(' + ')} MB`);
    await grantAdmins(lab);
    const monitors = lab.nodes.map((n) => lab.topo.start(n.host, ['ip', '-ts', 'monitor', 'address', 'dev', 'eth0']));
    const probe = startProbe(lab);
    for (const node of lab.nodes) startAgent(lab, node);
    await waitSoleHolder(lab, 30_000);
    const agentRss = lab.nodes.map((n) => residentMb(n.agent?.pid ?? 0));
    const results = new Map<Kind, number[]>();
    for (const kind of ['api-server death', 'vipcast SIGKILL', 'vipcast SIGTERM'] as const) {
      const outages: number[] = [];
      for (let i = 0; i < TRIALS; i++) outages.push(await trial(lab, probe, kind));
      results.set(kind, outages);
      console.log(summary(kind, outages));
    }
    const witnesses = { monitors } as unknown as Witnesses;
    const overlaps = overlappingHolds(holdIntervals(lab, witnesses));
    console.log(`  agent resident memory ${agentRss.join(' + ')} MB; two-holder overlaps seen by ip monitor: ${overlaps.length}`);
    const sorted = (kind: Kind): number[] => [...(results.get(kind) ?? [])].sort((a, b) => a - b);
    const met =
      percentile(sorted('api-server death'), 95) <= targets.apiDeathP95Ms &&
      Math.max(...sorted('vipcast SIGKILL')) <= targets.sigkillMaxMs &&
      Math.max(...sorted('vipcast SIGTERM')) <= targets.sigtermMaxMs &&
      overlaps.length === 0;
    console.log(`  targets: API-server death p95 ≤ ${targets.apiDeathP95Ms} ms, SIGKILL ≤ lease + 1 s = ${targets.sigkillMaxMs} ms, SIGTERM ≤ ${targets.sigtermMaxMs} ms, no overlap`);
    return { met, results };
  } finally {
    await lab.topo.destroy();
  }
}

/** vipcast's trials, then kube-vip's control-plane mode (tuned 5/3/1) in the same lab, with ratios. */
export async function benchControlPlane(): Promise<boolean> {
  const { met, results } = await vipcastControlPlane();
  const kv = await measureKubeVipControlPlane(TRIALS);
  if ('unavailable' in kv) {
    console.log(`  kube-vip comparison not run: ${kv.unavailable}`);
    return met;
  }
  console.log('  kube-vip control-plane mode (lease 5 s, renew deadline 3 s, retry 1 s), same lab and probe:');
  const rows = [
    ['api-server death', kv.apiServerDeathMs, kv.takeoverMs.apiServerDeath],
    ['vipcast SIGKILL', kv.sigkillMs, kv.takeoverMs.sigkill],
    ['vipcast SIGTERM', kv.sigtermMs, kv.takeoverMs.sigterm],
  ] as const;
  for (const [kind, outage, moved] of rows) {
    const ours = kubeVipDistribution(results.get(kind) ?? []);
    const theirs = kubeVipDistribution(outage);
    const ratio = theirs.p95 > 0 ? (ours.p95 / theirs.p95).toFixed(2) : 'n/a (kube-vip p95 is 0)';
    console.log(`    ${kind.replace('vipcast ', '').padEnd(17)} outage p50 ${theirs.p50} ms, p95 ${theirs.p95} ms, max ${theirs.max} ms; VIP on another node after p50 ${kubeVipDistribution(moved).p50} ms; vipcast/kube-vip p95 ${ratio}`);
  }
  const d = kv.twoHolderTrials;
  console.log(`    trials with two holders: API-server death ${d.apiServerDeath}, SIGKILL ${d.sigkill} (a killed kube-vip keeps its VIP on the interface), SIGTERM ${d.sigterm}`);
  return met;
}
