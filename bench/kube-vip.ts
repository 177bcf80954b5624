// kube-vip in vipcast's own labs, for the ratios issues 6 and 7 ask for (needs root,
// scripts/build-kube and scripts/build-kube-vip's binaries, and dist/). Nothing of vipcast
// runs in these labs: kube-vip alone holds the VIPs, and the same client probes measure it.
//   - Service mode (ARP, one Lease per Service): SpeakerLab's three nodes, a client
//     connecting to the Service's VIP every 50 ms; hard loss (SIGKILL + eth0 down) and
//     planned stop (SIGTERM), with kube-vip's default and 5/3/1 lease timings.
//   - Control-plane mode (ARP, Lease plndr-cp-lock): the HA lab's three API servers, a
//     client asking /readyz through the VIP every 50 ms; leader API-server death, kube-vip
//     SIGKILL, kube-vip SIGTERM.
// See docs/adr/0014-kube-vip-comparison.md.
import { join } from 'node:path';
import { percentile } from './machine.js';
import { namespaceApiPort } from '../lab/api-bridge.js';
import { createHaLab, grantAdmins, holdersByIpAddr, HA_VIP, startApiServer, waitApiReady, type ControlPlaneNode, type HaLab } from '../lab/ha-lab.js';
import { outageOnceServed, startProbe } from '../lab/ha-witnesses.js';
import { kubeExpectOk, writeKubeconfig } from '../lab/kube-client.js';
import {
  controlPlaneModeEnv,
  findKubeVip,
  KUBE_VIP_DEFAULT_TIMINGS,
  KUBE_VIP_SERVICE_ACCOUNT,
  KUBE_VIP_TUNED_TIMINGS,
  kubeVipRbacObjects,
  serviceModeEnv,
  startKubeVip,
  type KubeVipTimings,
} from '../lab/kube-vip.js';
import { pollValue, type HostProcess } from '../lab/netns.js';
import { outageUntilServedBy, probeResults, SpeakerLab, startProbe as startConnectProbe, type LabNode } from '../lab/speaker-lab.js';

/** Client-visible outages (ms) of one kube-vip configuration in the Service lab. */
export interface KubeVipLayer2Figures {
  readonly hardLossMs: number[];
  readonly plannedMs: number[];
  /**
   * Planned stops: ms from SIGTERM until the client is first answered by the new owner. The
   * outage is usually 0 because the stopped node still accepts the VIP's traffic, as every
   * node of the lab does; this says when the VIP really moved.
   */
  readonly plannedHandoverMs: number[];
  /** ms from the event until another node had the VIP on eth0 (kube-vip won the Lease and added it). */
  readonly hardLossTakeoverMs: number[];
  readonly plannedTakeoverMs: number[];
}

/** Client-visible outages (ms) of kube-vip's control-plane mode in the HA lab. */
export interface KubeVipControlPlaneFigures {
  readonly apiServerDeathMs: number[];
  readonly sigkillMs: number[];
  readonly sigtermMs: number[];
  /**
   * Trials, by scenario, in which two nodes had the VIP on eth0 at once (seen by `ip addr`).
   * A SIGKILLed kube-vip leaves its VIP on the interface until it is started again.
   */
  readonly twoHolderTrials: { readonly apiServerDeath: number; readonly sigkill: number; readonly sigterm: number };
  /** ms from the event until another node had the VIP on eth0, by scenario. */
  readonly takeoverMs: { readonly apiServerDeath: number[]; readonly sigkill: number[]; readonly sigterm: number[] };
}

/** Why kube-vip cannot run here (no binary), in words that name the fix. */
export interface Unavailable {
  readonly unavailable: string;
}

const SERVICE = 'kv-web';
const SERVICE_VIP = '192.0.2.100';
const PROBE_INTERVAL_MS = 50;

/** Waits until the last five connects were answered by a node other than `not`; returns its name. */
async function servedByOther(probe: HostProcess, from: number, not: string | undefined, timeoutMs: number): Promise<string> {
  const last = await pollValue(
    () => probeResults(probe, from).slice(-5),
    (five) => five.length === 5 && five.every((r) => r.ok && r.answer !== not && r.answer === five[0]?.answer),
    timeoutMs,
    PROBE_INTERVAL_MS,
  );
  const name = last[0]?.answer;
  if (last.length < 5 || !last.every((r) => r.ok && r.answer === name) || name === not || name === undefined) {
    throw new Error(`the client was not served steadily by another node than ${not ?? '(any)'} within ${timeoutMs} ms; last connects: ${JSON.stringify(last)}`);
  }
  return name;
}

/** Whether the last five connects (started within `timeoutMs` from now) were all answered by `node`. */
async function servedSteadilyBy(probe: HostProcess, node: string, timeoutMs: number): Promise<boolean> {
  const from = Date.now();
  const last = await pollValue(
    () => probeResults(probe, from).slice(-5),
    (five) => five.length === 5 && five.every((r) => r.ok && r.answer === node),
    timeoutMs,
    PROBE_INTERVAL_MS,
  );
  return last.length === 5 && last.every((r) => r.ok && r.answer === node);
}

/** Summary line: p50, p95 and max of a distribution (nearest rank). */
export function distribution(values: readonly number[]): { p50: number; p95: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1] ?? NaN };
}

/** Prints one line per trial when VIPCAST_BENCH_VERBOSE is set. */
function verbose(line: string): void {
  if (process.env['VIPCAST_BENCH_VERBOSE']) console.log(`    ${line}`);
}

function binaryOrReason(): string | Unavailable {
  try {
    return findKubeVip();
  } catch (error) {
    return { unavailable: (error as Error).message };
  }
}

function tail(p: HostProcess | undefined, n = 12): string {
  return p === undefined ? '(not running)' : p.lines.slice(-n).join('\n    ');
}

// --- Service mode in the speaker lab ------------------------------------------------------

interface ServiceRun {
  readonly lab: SpeakerLab;
  readonly binary: string;
  readonly kubeconfig: string;
  readonly kubeVips: Map<LabNode, HostProcess>;
  timings: KubeVipTimings;
}

/** Creates kube-vip's ServiceAccount and RBAC, and a Service with a ready endpoint on every node. */
async function prepareServiceLab(lab: SpeakerLab): Promise<string> {
  const { namespace, name } = KUBE_VIP_SERVICE_ACCOUNT;
  const credentials = await lab.api.serviceAccountToken(namespace, name);
  for (const object of kubeVipRbacObjects()) await kubeExpectOk(lab.admin, object.path, { method: 'POST', body: object.body });
  const kubeconfig = await writeKubeconfig({ ...credentials, server: `https://127.0.0.1:${namespaceApiPort}` }, join(lab.topo.dir, 'kube-vip.kubeconfig'));
  // kube-vip takes the address from this annotation (no controller allocates one here).
  await kubeExpectOk(lab.admin, '/api/v1/namespaces/default/services', {
    method: 'POST',
    body: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: SERVICE, namespace: 'default', annotations: { 'kube-vip.io/loadbalancerIPs': SERVICE_VIP } },
      spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster', ipFamilies: ['IPv4'], ports: [{ port: 8080, protocol: 'TCP' }] },
    },
  });
  // No kube-controller-manager runs: the EndpointSlice a Deployment would produce, one ready
  // endpoint per node (kube-vip announces a Service only while it has ready endpoints).
  await kubeExpectOk(lab.admin, '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
    method: 'POST',
    body: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${SERVICE}-nodes`, namespace: 'default', labels: { 'kubernetes.io/service-name': SERVICE } },
      addressType: 'IPv4',
      endpoints: lab.nodes.map((n, i) => ({ addresses: [`192.0.2.${i + 1}`], conditions: { ready: true }, nodeName: n.name })),
      ports: [{ port: 8080, protocol: 'TCP' }],
    },
  });
  return kubeconfig;
}

function startServiceKubeVip(run: ServiceRun, node: LabNode): HostProcess {
  const env = serviceModeEnv({ nodeName: node.name, kubeconfig: run.kubeconfig, interface: 'eth0', timings: run.timings });
  const kubeVip = startKubeVip(run.lab.topo, node.host, run.binary, env);
  run.kubeVips.set(node, kubeVip);
  return kubeVip;
}

/** Nodes with the Service VIP on eth0, by `ip addr` in each namespace. */
async function serviceHolders(lab: SpeakerLab): Promise<LabNode[]> {
  const held = await Promise.all(
    lab.nodes.map(async (n) => ((await lab.topo.run(n.host, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout.includes(` ${SERVICE_VIP}/`) ? n : undefined)),
  );
  return held.filter((n): n is LabNode => n !== undefined);
}

async function soleServiceHolder(run: ServiceRun, timeoutMs: number): Promise<LabNode> {
  const holders = await pollValue(() => serviceHolders(run.lab), (h) => h.length === 1, timeoutMs, 100);
  const node = holders[0];
  if (holders.length !== 1 || node === undefined) {
    const logs = run.lab.nodes.map((n) => `${n.name}:\n    ${tail(run.kubeVips.get(n))}`).join('\n  ');
    throw new Error(`kube-vip: expected one node with ${SERVICE_VIP} on eth0, found [${holders.map((n) => n.name).join(', ')}]\n  ${logs}`);
  }
  return node;
}

/** Stops every kube-vip with SIGTERM, clears the Service Lease and any VIP left on an interface. */
async function stopServiceKubeVips(run: ServiceRun): Promise<void> {
  for (const p of run.kubeVips.values()) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all([...run.kubeVips.values()].map((p) => p.exited));
  run.kubeVips.clear();
  await kubeExpectOk(run.lab.admin, `/apis/coordination.k8s.io/v1/namespaces/default/leases/kubevip-${SERVICE}`, { method: 'DELETE' }).catch(() => undefined);
  for (const n of run.lab.nodes) await run.lab.topo.run(n.host, ['ip', 'addr', 'del', `${SERVICE_VIP}/32`, 'dev', 'eth0'], true);
}

/** One trial: disturb the owner, wait until another node serves the client, return the outage; then restore the node. */
async function serviceTrial(run: ServiceRun, probe: HostProcess, kind: 'hard' | 'planned'): Promise<{ outageMs: number; handoverMs: number; takeoverMs: number }> {
  const owner = await soleServiceHolder(run, 60_000);
  // Every node accepts the pool (as kube-proxy would), so a client whose ARP entry still
  // names an earlier owner is served without the owner; start each trial from the owner.
  if (!(await servedSteadilyBy(probe, owner.name, 3000))) {
    await run.lab.topo.run(run.lab.client, ['ip', 'neigh', 'flush', 'to', SERVICE_VIP], true);
    if (!(await servedSteadilyBy(probe, owner.name, 10_000))) throw new Error(`kube-vip: the client is not served by the VIP's holder ${owner.name}`);
  }
  const kubeVip = run.kubeVips.get(owner);
  const at = Date.now();
  if (kind === 'hard') {
    kubeVip?.child.kill('SIGKILL');
    await run.lab.topo.run(owner.host, ['ip', 'link', 'set', 'eth0', 'down']);
  } else {
    kubeVip?.child.kill('SIGTERM');
  }
  const timeoutMs = run.timings.leaseDuration * 1000 + 30_000;
  const takeover = pollValue(() => serviceHolders(run.lab), (h) => h.some((n) => n !== owner), timeoutMs, 50)
    .then((h) => (h.some((n) => n !== owner) ? Date.now() - at : NaN))
    .catch(() => NaN);
  const next = await servedByOther(probe, at, owner.name, timeoutMs);
  const takeoverMs = await takeover;
  const nextNode = run.lab.nodes.find((n) => n.name === next);
  if (nextNode === undefined) throw new Error(`kube-vip: the client was answered by an unknown node ${next}`);
  // The same measure as bench/speaker.ts takes of vipcast.
  const { outageMs: outage, servedAfterMs: handover } = await outageUntilServedBy(probe, nextNode, at);
  verbose(`kube-vip L2 ${run.timings.leaseDuration}/${run.timings.renewDeadline}/${run.timings.retryPeriod} ${kind}: ${owner.name} -> ${next}: VIP on ${next} after ${takeoverMs} ms, client served after ${handover} ms, outage ${outage} ms`);
  await kubeVip?.exited;
  if (kind === 'hard') {
    // The node comes back as after a reboot: without the address the killed kube-vip left.
    await run.lab.topo.run(owner.host, ['ip', 'addr', 'del', `${SERVICE_VIP}/32`, 'dev', 'eth0'], true);
    await run.lab.topo.run(owner.host, ['ip', 'link', 'set', 'eth0', 'up']);
  }
  const restarted = startServiceKubeVip(run, owner);
  await restarted.waitForLine(/new leader election|new leader/, 30_000);
  return { outageMs: outage, handoverMs: handover, takeoverMs };
}

/**
 * kube-vip's Service load-balancer mode (ARP, `svc_election`) on SpeakerLab's three nodes:
 * `trials` hard losses and `trials` planned stops, with its default lease timings and with
 * 5/3/1. Returns `unavailable` when the binary is missing; throws when the lab fails.
 */
export async function measureKubeVipLayer2(trials: number): Promise<{ defaults: KubeVipLayer2Figures; tuned: KubeVipLayer2Figures } | Unavailable> {
  const binary = binaryOrReason();
  if (typeof binary !== 'string') return binary;
  const lab = await SpeakerLab.create(3);
  try {
    const kubeconfig = await prepareServiceLab(lab);
    const probe = startConnectProbe(lab, SERVICE_VIP);
    const run: ServiceRun = { lab, binary, kubeconfig, kubeVips: new Map(), timings: KUBE_VIP_DEFAULT_TIMINGS };
    const measure = async (timings: KubeVipTimings): Promise<KubeVipLayer2Figures> => {
      await stopServiceKubeVips(run);
      run.timings = timings;
      for (const node of lab.nodes) startServiceKubeVip(run, node);
      const figures = { hardLossMs: [] as number[], plannedMs: [] as number[], plannedHandoverMs: [] as number[], hardLossTakeoverMs: [] as number[], plannedTakeoverMs: [] as number[] };
      for (let i = 0; i < trials; i++) {
        const r = await serviceTrial(run, probe, 'hard');
        figures.hardLossMs.push(r.outageMs);
        figures.hardLossTakeoverMs.push(r.takeoverMs);
      }
      for (let i = 0; i < trials; i++) {
        const r = await serviceTrial(run, probe, 'planned');
        figures.plannedMs.push(r.outageMs);
        figures.plannedHandoverMs.push(r.handoverMs);
        figures.plannedTakeoverMs.push(r.takeoverMs);
      }
      return figures;
    };
    const defaults = await measure(KUBE_VIP_DEFAULT_TIMINGS);
    const tuned = await measure(KUBE_VIP_TUNED_TIMINGS);
    await stopServiceKubeVips(run);
    return { defaults, tuned };
  } finally {
    await lab.destroy();
  }
}

// --- control-plane mode in the HA lab -----------------------------------------------------

const wallNow = (): number => performance.timeOrigin + performance.now();

function startControlPlaneKubeVip(lab: HaLab, node: ControlPlaneNode, binary: string, timings: KubeVipTimings): HostProcess {
  const env = controlPlaneModeEnv({
    nodeName: node.name,
    address: HA_VIP,
    interface: 'eth0',
    kubeconfig: node.adminKubeconfig,
    localApiServer: '127.0.0.1:6443',
    timings,
  });
  node.agent = startKubeVip(lab.topo, node.host, binary, env);
  return node.agent;
}

/** The node holding the VIP, once exactly one does (or, with `not`, once some node other than `not` does). */
async function cpHolder(lab: HaLab, timeoutMs: number, not?: string): Promise<{ node: ControlPlaneNode; twoHolders: boolean }> {
  const holders = await pollValue(() => holdersByIpAddr(lab), (h) => (not === undefined ? h.length === 1 : h.some((n) => n !== not)), timeoutMs, 50);
  const name = not === undefined ? (holders.length === 1 ? holders[0] : undefined) : holders.find((n) => n !== not);
  const node = lab.nodes.find((n) => n.name === name);
  if (node === undefined) {
    const logs = lab.nodes.map((n) => `${n.name}:\n    ${tail(n.agent)}`).join('\n  ');
    throw new Error(`kube-vip: expected ${not === undefined ? 'one holder' : `a holder other than ${not}`} of ${HA_VIP}, found [${holders.join(', ')}]\n  ${logs}`);
  }
  return { node, twoHolders: holders.length > 1 };
}

type CpKind = 'api-server death' | 'SIGKILL' | 'SIGTERM';

async function cpTrial(lab: HaLab, probe: HostProcess, binary: string, timings: KubeVipTimings, kind: CpKind): Promise<{ outageMs: number; takeoverMs: number; twoHolders: boolean }> {
  const { node: leader } = await cpHolder(lab, 60_000);
  await outageOnceServed(probe, wallNow() - 100, 5);
  const event = wallNow();
  if (kind === 'api-server death') leader.apiserver?.child.kill('SIGKILL');
  else leader.agent?.child.kill(kind);
  const moved = await cpHolder(lab, timings.leaseDuration * 1000 + 30_000, leader.name);
  const takeoverMs = Math.round(wallNow() - event);
  const outage = await outageOnceServed(probe, event, 10);
  verbose(`kube-vip CP ${kind}: ${leader.name} -> ${moved.node.name} (VIP there after ${takeoverMs} ms), outage ${outage.outageMs} ms (${outage.before ?? '?'} -> ${outage.after ?? '?'})${moved.twoHolders ? ', two holders' : ''}`);
  // Two holders can also show up only later (or already be gone): sample once more.
  const twoHolders = moved.twoHolders || (await holdersByIpAddr(lab)).length > 1;
  if (kind === 'api-server death') {
    await leader.apiserver?.exited;
    startApiServer(lab, leader);
    await waitApiReady(lab, leader, 90_000);
    // kube-vip may have exited after losing its Lease; start it again as kubelet would.
    const agent = leader.agent;
    if (agent === undefined || agent.child.exitCode !== null || agent.child.signalCode !== null) startControlPlaneKubeVip(lab, leader, binary, timings);
  } else {
    await leader.agent?.exited;
    // A restarted kube-vip first deletes a VIP left on its interface (kubelet restarts a static Pod).
    startControlPlaneKubeVip(lab, leader, binary, timings);
  }
  await cpHolder(lab, 60_000);
  return { outageMs: outage.outageMs, takeoverMs, twoHolders };
}

/**
 * kube-vip's control-plane mode (ARP, Lease plndr-cp-lock) on the HA lab's three nodes:
 * `trials` each of leader API-server death, kube-vip SIGKILL and kube-vip SIGTERM, with
 * `timings` (5/3/1 unless given). Returns `unavailable` when the binary is missing.
 */
export async function measureKubeVipControlPlane(trials: number, timings: KubeVipTimings = KUBE_VIP_TUNED_TIMINGS): Promise<KubeVipControlPlaneFigures | Unavailable> {
  const binary = binaryOrReason();
  if (typeof binary !== 'string') return binary;
  const lab = await createHaLab();
  try {
    await grantAdmins(lab);
    const probe = startProbe(lab);
    for (const node of lab.nodes) startControlPlaneKubeVip(lab, node, binary, timings);
    await cpHolder(lab, 60_000);
    const results: Record<CpKind, number[]> = { 'api-server death': [], SIGKILL: [], SIGTERM: [] };
    const takeover: Record<CpKind, number[]> = { 'api-server death': [], SIGKILL: [], SIGTERM: [] };
    const doubled: Record<CpKind, number> = { 'api-server death': 0, SIGKILL: 0, SIGTERM: 0 };
    for (const kind of ['api-server death', 'SIGKILL', 'SIGTERM'] as const) {
      for (let i = 0; i < trials; i++) {
        const r = await cpTrial(lab, probe, binary, timings, kind);
        results[kind].push(r.outageMs);
        takeover[kind].push(r.takeoverMs);
        if (r.twoHolders) doubled[kind]++;
      }
    }
    return {
      apiServerDeathMs: results['api-server death'],
      sigkillMs: results.SIGKILL,
      sigtermMs: results.SIGTERM,
      twoHolderTrials: { apiServerDeath: doubled['api-server death'], sigkill: doubled.SIGKILL, sigterm: doubled.SIGTERM },
      takeoverMs: { apiServerDeath: takeover['api-server death'], sigkill: takeover.SIGKILL, sigterm: takeover.SIGTERM },
    };
  } finally {
    await lab.topo.destroy();
  }
}

/** `npm run bench kube-vip` alone: prints kube-vip's distributions in both labs (no targets of its own). */
export async function benchKubeVip(): Promise<boolean> {
  const trials = Number(process.env['VIPCAST_BENCH_TRIALS'] ?? 20);
  const line = (label: string, values: readonly number[]): string => {
    const d = distribution(values);
    return `  ${label.padEnd(42)} n=${values.length}  p50 ${d.p50} ms  p95 ${d.p95} ms  max ${d.max} ms`;
  };
  console.log(`\nkube-vip in vipcast's labs, ${trials} trials each`);
  const l2 = await measureKubeVipLayer2(trials);
  if ('unavailable' in l2) console.log(`  layer 2: not run: ${l2.unavailable}`);
  else {
    for (const [label, f] of [['L2 defaults 15/10/2', l2.defaults], ['L2 tuned 5/3/1', l2.tuned]] as const) {
      console.log(line(`${label}, hard loss outage`, f.hardLossMs));
      console.log(line(`${label}, hard loss VIP moved`, f.hardLossTakeoverMs));
      console.log(line(`${label}, SIGTERM outage`, f.plannedMs));
      console.log(line(`${label}, SIGTERM VIP moved`, f.plannedTakeoverMs));
      console.log(line(`${label}, SIGTERM client moved`, f.plannedHandoverMs));
    }
  }
  const cp = await measureKubeVipControlPlane(trials);
  if ('unavailable' in cp) console.log(`  control plane: not run: ${cp.unavailable}`);
  else {
    console.log(line('CP 5/3/1, API-server death outage', cp.apiServerDeathMs));
    console.log(line('CP 5/3/1, API-server death VIP moved', cp.takeoverMs.apiServerDeath));
    console.log(line('CP 5/3/1, SIGKILL outage', cp.sigkillMs));
    console.log(line('CP 5/3/1, SIGKILL VIP moved', cp.takeoverMs.sigkill));
    console.log(line('CP 5/3/1, SIGTERM outage', cp.sigtermMs));
    console.log(line('CP 5/3/1, SIGTERM VIP moved', cp.takeoverMs.sigterm));
    const d = cp.twoHolderTrials;
    console.log(`  trials with two nodes holding the VIP: API-server death ${d.apiServerDeath}, SIGKILL ${d.sigkill}, SIGTERM ${d.sigterm}`);
  }
  return true;
}
