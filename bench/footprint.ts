// Footprint benchmark (issue 18; root, a real API server and namespaces; runs dist/): the
// resident memory, V8 heap and steady-state CPU of the speaker and the controller as the
// image runs them (Node 24 when setup installed it, with the image's --max-semi-space-size=2
// and the manifests' --max-old-space-size=128;
// VIPCAST_BENCH_FLAGS adds flags, to try others; VIPCAST_BENCH_CONTROL_PLANE=0 skips the
// agent), idle and with 1,000, 5,000 and 10,000
// LoadBalancer Services. Three speakers hold by peer quorum as in a cluster; the pool selects
// node-1 alone, so its speaker holds every layer-2 VIP, the most one node can hold. Then the
// control-plane agent in the HA lab. Each figure is taken after the program settled: 10 s
// after the last change, CPU over the next 20 s.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubeExpectOk } from '../lab/kube-client.js';
import { pollValue, type HostProcess } from '../lab/netns.js';
import { SpeakerLab } from '../lab/speaker-lab.js';
import { createHaLab, grantAdmins, startAgent, waitSoleHolder } from '../lab/ha-lab.js';

/** Service counts measured at; VIPCAST_BENCH_COUNTS=0,1000 for a quicker look. */
const counts = (process.env['VIPCAST_BENCH_COUNTS'] ?? '0,1000,5000,10000').split(',').map(Number);
/** Issue 18's goals, in MiB and percent of one core. */
const targets = {
  speaker: new Map<number, number>([[0, 60], [1_000, 80], [5_000, 120]]),
  speakerCpuAt1k: 1,
  controller: new Map<number, number>([[0, 60], [1_000, 100], [10_000, 150]]),
  controlPlane: 60,
};
const settleMs = 10_000;
const cpuWindowMs = 20_000;

const config = `address-pools:
- name: bench
  protocol: layer2
  addresses:
  - 10.64.0.0/18
  node-selectors:
  - match-labels: {bench: holder}
`;

/** The Node the image runs (24), from setup's cache, else this one. */
function nodeBinary(): string {
  const cached = join(process.cwd(), '.cache', 'node24', 'node_modules', '.bin', 'node');
  return process.env['VIPCAST_BENCH_NODE'] ?? (existsSync(cached) ? cached : process.execPath);
}

/** The Node flags the programs run with: the image's (Dockerfile ENTRYPOINT) and the manifests' NODE_OPTIONS. */
const imageFlags = ['--max-semi-space-size=2', '--max-old-space-size=128', ...(process.env['VIPCAST_BENCH_FLAGS'] ?? '').split(' ').filter((f) => f !== '')];

interface Usage {
  readonly rssMb: number;
  /** Of the RSS, the process's own memory (heap, stacks, buffers) and the mapped files' pages. */
  readonly anonMb: number;
  readonly fileMb: number;
  readonly cpuTicks: number;
}

function usage(pid: number): Usage {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
  return { rssMb: kb('VmRSS'), anonMb: kb('RssAnon'), fileMb: kb('RssFile'), cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

interface Figure {
  readonly rssMb: number;
  readonly anonMb: number;
  readonly fileMb: number;
  readonly heapMb: number;
  /** V8's heap as committed (used or not), and memory held outside it (Buffers). */
  readonly heapTotalMb: number;
  readonly externalMb: number;
  readonly cpuPercent: number;
}

/** Settles, then RSS, heap used (from the program's own metrics) and CPU over the window. */
async function measure(pid: number, heap: (name: string) => Promise<number>): Promise<Figure> {
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const before = usage(pid);
  const at = performance.now();
  await new Promise((resolve) => setTimeout(resolve, cpuWindowMs));
  const after = usage(pid);
  const seconds = (performance.now() - at) / 1000;
  return { rssMb: after.rssMb, anonMb: after.anonMb, fileMb: after.fileMb, heapMb: await heap('heap_size_used_bytes'), heapTotalMb: await heap('heap_size_total_bytes'), externalMb: await heap('external_memory_bytes'), cpuPercent: (after.cpuTicks - before.cpuTicks) / seconds };
}

/** A series from a program's /metrics, read from inside its namespace; NaN when the endpoint does not answer. */
async function metric(lab: SpeakerLab, host: SpeakerLab['client'], port: number, name: string): Promise<number> {
  const script = `fetch('http://127.0.0.1:${port}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t), () => process.exit(1))`;
  const { code, stdout } = await lab.topo.run(host, [process.execPath, '-e', script], true);
  if (code !== 0) return Number.NaN;
  // A labelled series the program has not counted yet is absent: zero so far.
  const line = stdout.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

async function createServices(lab: SpeakerLab, from: number, to: number): Promise<void> {
  for (let next = from; next < to; next += 16) {
    await Promise.all(
      Array.from({ length: Math.min(16, to - next) }, (_, k) =>
        kubeExpectOk(lab.admin, '/api/v1/namespaces/default/services', {
          method: 'POST',
          body: { apiVersion: 'v1', kind: 'Service', metadata: { name: `fp-${next + k}` }, spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }], selector: { app: 'fp' } } },
        }),
      ),
    );
  }
}

const row = (label: string, f: Figure, goal: number | undefined): string =>
  `  ${label.padEnd(28)} RSS ${f.rssMb.toFixed(0).padStart(4)} MiB${goal === undefined ? '' : ` (goal ≤ ${goal})`} = ${f.anonMb.toFixed(0)} anonymous + ${f.fileMb.toFixed(0)} file pages, heap used ${f.heapMb.toFixed(1)} of ${f.heapTotalMb.toFixed(0)} MiB, external ${f.externalMb.toFixed(1)} MiB, CPU ${f.cpuPercent.toFixed(2)}% of a core`;

/** Speaker and controller over the Service counts, then the control-plane agent. */
export async function benchFootprint(): Promise<boolean> {
  const node = nodeBinary();
  const version = (await import('node:child_process')).execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`\nfootprint: programs run as the image runs them: Node ${version} ${imageFlags.join(' ')}; three speakers, node-1's holding every VIP`);
  let met = true;
  const lab = await SpeakerLab.create(3, config, { serviceClusterIpRange: '10.0.0.0/16,fd00:10::/112' });
  const programs: HostProcess[] = [];
  try {
    const self = lab.nodes[0];
    if (!self) throw new Error('the lab has no node');
    await kubeExpectOk(lab.admin, `/api/v1/nodes/${self.name}`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { labels: { bench: 'holder' } } } });
    const controller: HostProcess = lab.topo.start(lab.controllerHost, [node, ...imageFlags, 'bin/vipcast.js', 'controller', '--kubeconfig', lab.controllerKubeconfig, '--metrics-address', '127.0.0.1:7472']);
    programs.push(controller);
    await controller.waitForLine(/became leader/, 30_000);
    const speakers = lab.nodes.map((n) => {
      const process = lab.topo.start(n.host, [node, ...imageFlags, 'bin/vipcast.js', 'speaker', '--node', n.name, '--kubeconfig', lab.speakerKubeconfigs.get(n.name) ?? '', '--interface', 'eth0', '--metrics-address', '127.0.0.1:7473', '--peer-address', n.peerAddress]);
      n.speaker = process;
      programs.push(process);
      return process;
    });
    await Promise.all(speakers.map((s) => s.waitForLine(/"speaker started"/, 20_000)));
    await lab.waitForPeerQuorum();
    const speaker = speakers[0]!;
    const speakerHeap = async (name: string): Promise<number> => (await metric(lab, self.host, 7473, `vipcast_speaker_nodejs_${name}`)) / 2 ** 20;
    const controllerHeap = async (name: string): Promise<number> => (await metric(lab, lab.controllerHost, 7472, `vipcast_controller_nodejs_${name}`)) / 2 ** 20;
    let created = 0;
    for (const count of counts) {
      await createServices(lab, created, count);
      created = count;
      const assigned = await pollValue(() => metric(lab, lab.controllerHost, 7472, 'vipcast_controller_api_writes_total{kind="status"}'), (n) => n >= count, 600_000, 1000);
      const held = await pollValue(() => metric(lab, self.host, 7473, 'vipcast_speaker_announced_vips{mode="layer2"}'), (n) => n >= count, 600_000, 1000);
      if (assigned < count || held < count) console.log(`  at ${count}: only ${assigned} addresses written and ${held} VIPs held in time`);
      const [s, c] = await Promise.all([measure(speaker.child.pid ?? 0, speakerHeap), measure(controller.child.pid ?? 0, controllerHeap)]);
      const sGoal = targets.speaker.get(count);
      const cGoal = targets.controller.get(count);
      console.log(row(`speaker, ${count} Services`, s, sGoal));
      console.log(`  ${''.padEnd(28)} (the other two speakers, holding none: RSS ${speakers.slice(1).map((p) => usage(p.child.pid ?? 0).rssMb.toFixed(0)).join(' and ')} MiB)`);
      // A holder that keeps its VIPs confirmed each claim once; one that churns (stalls past
      // the peers' ping timeout, is declared dead, claims again) confirms many times more.
      const confirmed = await metric(lab, self.host, 7473, 'vipcast_speaker_layer2_elections_total');
      const lagP99 = await metric(lab, self.host, 7473, 'vipcast_speaker_nodejs_eventloop_lag_p99_seconds');
      console.log(`  ${''.padEnd(28)} (the holder confirmed ${confirmed} claims for ${count} VIPs; its event-loop lag p99 ${(lagP99 * 1000).toFixed(0)} ms)`);
      console.log(row(`controller, ${count} Services`, c, cGoal));
      if (sGoal !== undefined && s.rssMb > sGoal) met = false;
      if (cGoal !== undefined && c.rssMb > cGoal) met = false;
      if (count === 1_000 && s.cpuPercent > targets.speakerCpuAt1k) met = false;
    }
    console.log(`  goals: speaker CPU ≤ ${targets.speakerCpuAt1k}% of a core at 1,000 Services`);
  } finally {
    await stopGracefully(programs);
    await lab.destroy();
  }
  if (process.env['VIPCAST_BENCH_CONTROL_PLANE'] !== '0') met = (await controlPlane(node)) && met;
  return met;
}

/**
 * SIGTERMs the programs and waits up to 30 s for them to exit, so that flags such as
 * --cpu-prof or --heap-prof (VIPCAST_BENCH_FLAGS) write their files; the lab's teardown
 * kills whatever is left.
 */
async function stopGracefully(programs: readonly HostProcess[]): Promise<void> {
  for (const p of programs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.race([Promise.all(programs.map((p) => p.exited)), new Promise((resolve) => setTimeout(resolve, 30_000))]);
}

/** The control-plane agent in the HA lab (three API servers), once one holds the VIP. */
async function controlPlane(node: string): Promise<boolean> {
  const lab = await createHaLab();
  try {
    await grantAdmins(lab);
    for (const n of lab.nodes) startAgent(lab, n, { command: [node, ...imageFlags, 'bin/vipcast.js', 'control-plane'] });
    await waitSoleHolder(lab, 30_000);
    const figures = await Promise.all(lab.nodes.map((n) => measure(n.agent?.child.pid ?? 0, () => Promise.resolve(Number.NaN))));
    for (const [i, f] of figures.entries()) console.log(`  control-plane agent ${i + 1}: RSS ${f.rssMb.toFixed(0)} MiB (goal ≤ ${targets.controlPlane}) = ${f.anonMb.toFixed(0)} anonymous + ${f.fileMb.toFixed(0)} file pages, CPU ${f.cpuPercent.toFixed(2)}% of a core`);
    return figures.every((f) => f.rssMb <= targets.controlPlane);
  } finally {
    await lab.topo.destroy();
  }
}
