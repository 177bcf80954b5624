// `vipcast lab demo`: the guided failover on a running lab. A LoadBalancer Service gets an
// address from the controller; the client reaches it; the node serving it is lost hard (its
// speaker SIGKILLed and its link unplugged, as when a machine dies); another node takes over;
// the client's probe (a TCP connection every 50 ms) gives the outage it saw; then the node is
// restored. The capture shows the ARP/NDP (layer 2) or BGP/BFD (BGP) frames of the story.
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { kubeExpectOk, kubeRequest, readKubeconfig, type KubeCredentials } from './kube-client.js';
import { birdc } from './lab-bird.js';
import { bgpLines, layer2Lines, malformedFrames, sinceZero } from './lab-frames.js';
import { DetachedLauncher, type LabLauncher } from './lab-launcher.js';
import { isOurs, signal, stopProcesses, writeState, type LabNodeState, type LabProcessRecord, type LabState } from './lab-state.js';
import { controllerLaunch, labPrograms, plugIn, speakerLaunch } from './lab-topology.js';
import { holders, holdsLease, peerQuorumNodes } from './lab-leases.js';
import { inNs, pollValue } from './netns.js';
import { clientOutage, parseProbeLines, servedSteadily, type ProbeAttempt } from './probe-log.js';
import { repositoryRoot } from './paths.js';
import { configFromConfigMap, type ConfigMapObject } from '../src/config/config-map.js';
import type { ServiceView } from '../src/speaker/desired.js';
import { formatStatus, statusRows } from '../src/speaker/status-report.js';
import { defaultSpeakerLeaseTiming, type SpeakerLeaseObject } from '../src/speaker/speaker-lease.js';
import { defaultPeerTiming } from '../speakers/peer/quorum.js';

const serviceName = 'demo';

/** A probe run by the demo: its record and its attempts so far. */
interface Probe {
  readonly address: string;
  readonly record: LabProcessRecord;
  attempts(from?: number): ProbeAttempt[];
}

async function singleOwner(admin: KubeCredentials, address: string, not?: string, timeoutMs = 20_000): Promise<string> {
  const owners = await pollValue(() => holders(admin, address), (h) => h.length === 1 && h[0] !== not, timeoutMs, 50);
  if (owners.length !== 1 || owners[0] === not) throw new Error(`no single node took ${address} within ${timeoutMs / 1000} s (holders: ${owners.join(', ') || 'none'})`);
  return owners[0] ?? '';
}

/** Creates (or reuses) the demo Service and resolves with its addresses. */
async function demoService(admin: KubeCredentials, state: LabState, out: (line: string) => void): Promise<string[]> {
  const families = state.family === 'ipv4' ? ['IPv4'] : state.family === 'ipv6' ? ['IPv6'] : ['IPv4', 'IPv6'];
  const created = await kubeRequest(admin, '/api/v1/namespaces/default/services?fieldManager=vipcast-lab', {
    method: 'POST',
    body: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: serviceName, namespace: 'default' },
      spec: { type: 'LoadBalancer', ipFamilies: families, ipFamilyPolicy: families.length === 2 ? 'RequireDualStack' : 'SingleStack', ports: [{ port: 8080, protocol: 'TCP' }], selector: { app: serviceName } },
    },
  });
  if (created.status === 201) out(`demo: created Service default/${serviceName} (type LoadBalancer, port 8080, ${families.join(' + ')})`);
  else if (created.status === 409) out(`demo: Service default/${serviceName} exists already; using it`);
  else throw new Error(`creating Service ${serviceName} → ${created.status}: ${created.text.slice(0, 300)}`);
  type WithStatus = { status?: { loadBalancer?: { ingress?: { ip?: string; ipMode?: string }[] } } };
  const read = async (): Promise<string[]> =>
    ((await kubeExpectOk(admin, `/api/v1/namespaces/default/services/${serviceName}`)) as WithStatus).status?.loadBalancer?.ingress?.map((i) => i.ip ?? '') ?? [];
  const at = Date.now();
  const ips = await pollValue(read, (found) => found.length === families.length, 30_000, 100);
  if (ips.length !== families.length) throw new Error(`Service ${serviceName} got no address from the controller within 30 s (see the controller's log in ${join(state.dir, 'logs')})`);
  out(`demo: the controller wrote status.loadBalancer.ingress = ${ips.join(', ')} (${Date.now() - at} ms after asking)`);
  return ips;
}

function startProbe(launcher: LabLauncher, state: LabState, address: string): Promise<Probe> {
  const { probe } = labPrograms();
  return launcher.start({ role: `probe ${address}`, ns: state.clientNs, argv: [process.execPath, probe, address, '8080', '50', '300'], marker: probe }).then((record) => ({
    address,
    record,
    attempts: (from = 0) => parseProbeLines(readFileSync(record.log, 'utf8').split('\n'), from),
  }));
}

/** Waits for five answers in a row (from `node` when given); then measures the outage since `from` as the speaker benchmark does. */
async function outage(p: Probe, from: number, node?: string, timeoutMs = 20_000): Promise<ReturnType<typeof clientOutage>> {
  const seen = await pollValue(() => p.attempts(from), (list) => servedSteadily(list, node), timeoutMs, 50);
  if (!servedSteadily(seen, node)) throw new Error(`the client did not reach ${p.address}${node === undefined ? '' : ` on ${node}`} within ${timeoutMs / 1000} s; last attempts: ${seen.slice(-5).map((a) => `${a.ok ? 'ok' : 'fail'} ${a.answer}`).join('; ')}`);
  return clientOutage(seen, from, node);
}

/** Brings every node back (link up, speaker running), in case an earlier demo was cut short. */
async function healNodes(state: LabState, launcher: LabLauncher, out: (line: string) => void): Promise<void> {
  for (const node of state.nodes) {
    await plugIn(node, state.mode);
    const record = state.processes.find((r) => r.role === `speaker ${node.name}`);
    if (record !== undefined && isOurs(record)) continue;
    out(`demo: ${node.name}'s speaker is not running; starting it`);
    await restartSpeaker(state, launcher, node);
  }
}

async function restartSpeaker(state: LabState, launcher: LabLauncher, node: LabNodeState): Promise<void> {
  state.processes = state.processes.filter((r) => r.role !== `speaker ${node.name}`);
  writeState(state.dir, state);
  await launcher.start(speakerLaunch(node, join(state.dir, 'speaker.kubeconfig')));
}

/** What the demo does to the lab: lose the owning node hard, or freeze the API server. */
export type LabFault = 'node-loss' | 'api-outage';

/** How long the API server stays frozen in the api-outage demo. */
const apiOutageMs = 10_000;

/** Runs the demo on a running lab; resolves true when every step worked. */
export async function labDemo(state: LabState, out: (line: string) => void, interrupted: () => boolean = () => false, fault: LabFault = 'node-loss'): Promise<boolean> {
  if (state.nodes.length < 2) {
    out(`vipcast lab demo: the running lab has ${state.nodes.length} node; a failover needs another to take over. Run "vipcast lab down", then "vipcast lab demo" (3 nodes by default).`);
    return false;
  }
  const admin = readKubeconfig(state.adminKubeconfig);
  // The probe and the capture live only as long as this demo, even if starting one fails.
  const transient: LabProcessRecord[] = [];
  const launcher = new DetachedLauncher(join(state.dir, 'logs'), repositoryRoot(), (record) => {
    state.processes.push(record);
    if (/^(probe|capture)/.test(record.role)) transient.push(record);
    writeState(state.dir, state);
  });
  const names = new Map<string, string>();
  for (const n of state.nodes) [n.mac, n.ipv4, n.ipv6].forEach((key) => names.set(key, n.name));
  names.set((await inNs(state.clientNs, ['cat', '/sys/class/net/eth0/address'])).stdout.trim(), 'client');
  names.set('192.0.2.254', 'router').set('2001:db8::254', 'router');
  let victim: LabNodeState | undefined;
  try {
    out('');
    await clearLeftovers(state, launcher, out);
    const ips = await demoService(admin, state, out);
    const { capture, tcpdump } = await startCapture(state, launcher, ips);
    const owners = await showOwners(state, admin, ips, out);
    const probes = await Promise.all(ips.map((ip) => startProbe(launcher, state, ip)));
    for (const p of probes) {
      await outage(p, Date.now(), owners.get(p.address));
      const served = [...new Set(p.attempts().filter((a) => a.ok).map((a) => a.answer))].sort();
      out(`demo: the client (${state.clientNs}) reaches ${p.address}:8080 — answered by ${served.join(', ')}`);
    }
    await showStatus(admin, out);
    if (interrupted()) return false;

    if (fault === 'api-outage') {
      const at = Date.now();
      const shown = await freezeApiServer(state, launcher, admin, probes, owners, out);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await stopProcesses([tcpdump], 3000);
      if (state.mode === 'layer2') {
        const lines = await layer2Lines(capture, ips, at, names);
        out('demo: ARP/NDP frames about the Service\'s addresses on the client\'s switch port during and after the freeze, decoded by tshark, times from the freeze:');
        for (const line of lines.slice(-40)) out(`  ${line}`);
        if (lines.length > 40) out(`  (${lines.length - 40} earlier frames left out)`);
      }
      return shown;
    }

    const first = probes[0];
    const lastAnswer = first?.attempts().filter((a) => a.ok).at(-1)?.answer;
    const lost = state.nodes.find((n) => n.name === (owners.get(ips[0] ?? '') ?? lastAnswer));
    if (lost === undefined || first === undefined) throw new Error('found no node serving the Service');
    victim = lost;
    const at = await loseHard(state, lost, out);

    // Each address is followed at once (in parallel), so every time printed is when it happened.
    const followed = await Promise.all(probes.map((p) => followFailover(state, admin, p, owners.get(p.address), lost, at)));
    for (const { lines } of followed) for (const line of lines) out(line);
    const outages = followed.flatMap((f) => (f.outageMs === undefined ? [] : [f.outageMs]));
    out(expectedTakeover(state, lost));
    await restore(state, launcher, admin, lost, ips, out);

    // A second more on the wire: the new owner's announcements keep coming, once a second.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await stopProcesses([tcpdump], 3000);
    const lines = state.mode === 'layer2' ? await layer2Lines(capture, ips, at, names) : await bgpLines(capture, at, names);
    out(`demo: frames captured on the switch port of the ${state.mode === 'layer2' ? 'client (ARP/NDP about the Service\'s addresses' : 'router (BGP without KEEPALIVEs, BFD not Up'}), decoded by tshark, times from the loss:`);
    for (const line of lines.slice(-40)) out(`  ${line}`);
    if (lines.length > 40) out(`  (${lines.length - 40} earlier frames left out)`);
    const malformed = await malformedFrames(capture);
    out(malformed === '' ? 'demo: tshark found no malformed frame' : `demo: tshark found malformed frames:\n${malformed}`);
    out('');
    const compare = state.mode === 'layer2' ? ' "npm run bench lab" repeats this demo and sets its outages beside the speaker benchmark\'s hard-loss trials.' : '';
    out(`demo: done. Failover outage seen by the client: ${outages.map((o) => `${o} ms`).join(', ')}.${compare}`);
    out(`demo: the Service stays; delete it with "kubectl delete service ${serviceName}" (KUBECONFIG=${state.adminKubeconfig}), or take the lab down with "vipcast lab down".`);
    return malformed === '';
  } catch (error) {
    out(`vipcast lab demo: ${(error as Error).message}`);
    if (victim !== undefined) await healNodes(state, launcher, out).catch(() => undefined);
    return false;
  } finally {
    await stopProcesses(transient, 3000);
    state.processes = state.processes.filter((r) => !transient.includes(r));
    writeState(state.dir, state);
  }
}

/** A demo cut short may have left its probe and capture: stops them and removes their logs; heals any node left unplugged. */
async function clearLeftovers(state: LabState, launcher: LabLauncher, out: (line: string) => void): Promise<void> {
  const leftover = state.processes.filter((r) => /^(probe|capture)/.test(r.role));
  await stopProcesses(leftover, 3000);
  state.processes = state.processes.filter((r) => !leftover.includes(r));
  writeState(state.dir, state);
  for (const old of readdirSync(join(state.dir, 'logs')).filter((f) => /^(probe|capture)/.test(f))) rmSync(join(state.dir, 'logs', old), { force: true });
  await healNodes(state, launcher, out);
}

/** Captures on the client's (layer 2) or the router's (BGP) switch port what the demo shows afterwards. */
async function startCapture(state: LabState, launcher: LabLauncher, ips: readonly string[]): Promise<{ capture: string; tcpdump: LabProcessRecord }> {
  const capture = join(state.dir, 'demo', 'capture.pcap');
  mkdirSync(join(state.dir, 'demo'), { recursive: true });
  const port = state.mode === 'layer2' ? 'p-client' : 'p-r';
  const tcpdump = await launcher.start({ role: 'capture', ns: state.switchNs, argv: ['tcpdump', '-U', '-K', '-n', '-i', port, '-w', capture, state.mode === 'layer2' ? 'arp or icmp6' : 'tcp port 179 or udp port 3784'], marker: capture, ready: /listening on/ });
  // The client forgets who had the addresses, so the capture starts with its question and the owner's answer.
  if (state.mode === 'layer2') for (const ip of ips) await inNs(state.clientNs, ['ip', 'neigh', 'flush', 'to', ip], true);
  return { capture, tcpdump };
}

/** Says who serves each address before the fault: its one layer-2 owner, or BIRD's paths; resolves with the layer-2 owners. */
async function showOwners(state: LabState, admin: KubeCredentials, ips: readonly string[], out: (line: string) => void): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  if (state.mode === 'layer2') {
    if (state.nodes.length >= 3) {
      // A lab just brought up may still be in its first second, before every speaker has
      // recorded the others: the loss below is meant to show the peer quorum (ADR 0017).
      const names = state.nodes.map((n) => n.name);
      await pollValue(() => peerQuorumNodes(admin, names), (ready) => ready.length === names.length, 20_000, 100);
    }
    for (const ip of ips) owners.set(ip, await singleOwner(admin, ip));
    for (const [ip, owner] of owners) out(`demo: ${owner} answers ARP/NDP for ${ip} (its speaker holds it in Lease vipcast-system/vipcast-speaker-${owner})`);
  } else {
    await bgpSettled(state, ips);
    for (const ip of ips) out(`demo: BIRD's view of ${ip} before (one path per node, BFD Up with each):\n${indent(await birdRoute(state, ip))}`);
  }
  return owners;
}

/** Loses the node as a machine dies; resolves with the time of the loss (ms since the epoch). */
async function loseHard(state: LabState, lost: LabNodeState, out: (line: string) => void): Promise<number> {
  const speaker = state.processes.find((r) => r.role === `speaker ${lost.name}`);
  out(`demo: losing ${lost.name} hard: its speaker (PID ${speaker?.pid ?? '?'}) frozen, its link unplugged and the speaker SIGKILLed (t = 0)`);
  const at = Date.now();
  // Frozen first, so the speaker cannot act on its link going down (it would hand its
  // addresses over, ADR 0022: not a machine dying); then unplugged, so nothing its kernel
  // sends when it dies (a TCP FIN) reaches anyone; then killed.
  const pid = speaker !== undefined && isOurs(speaker) ? speaker.pid : undefined;
  if (pid !== undefined) signal(pid, 'SIGSTOP');
  await inNs(lost.ns, ['ip', 'link', 'set', 'eth0', 'down']);
  if (pid !== undefined) signal(pid, 'SIGKILL');
  return at;
}

/** What the takeover should take with the speaker's default timings, and why. */
function expectedTakeover(state: LabState, lost: LabNodeState): string {
  if (state.mode === 'layer2' && state.nodes.length >= 3) {
    const p = defaultPeerTiming;
    return `demo: expected with the speaker's default timings: ${((p.quietMs - p.pingIntervalMs) / 1000).toFixed(2)} to ${((p.quietMs + 150) / 1000).toFixed(2)} s: the other nodes declare ${lost.name} dead after ${p.quietMs} ms without a ping on the peer channel, then one claims its addresses with one Lease write and one read (ADR 0017)`;
  }
  if (state.mode === 'layer2') {
    const t = defaultSpeakerLeaseTiming;
    return `demo: expected with the speaker's default timings: ${((t.durationMs - t.renewIntervalMs) / 1000).toFixed(1)} to ${(t.durationMs / 1000).toFixed(1)} s and a little: with fewer than three speakers the other node takes over when ${lost.name}'s Lease (${t.durationMs / 1000} s) lapses, counted from the last renewal it saw (renewals every ${t.renewIntervalMs / 1000} s)`;
  }
  return 'demo: expected: about 300 ms, the BFD detection time (100 ms x 3), after which BIRD takes the lost node\'s paths away';
}

/** Plugs the node back in, restarts its speaker, and shows that nothing moves back (layer 2) or its paths return (BGP). */
async function restore(state: LabState, launcher: LabLauncher, admin: KubeCredentials, lost: LabNodeState, ips: readonly string[], out: (line: string) => void): Promise<void> {
  out(`demo: restoring ${lost.name}: link up, speaker restarted`);
  await plugIn(lost, state.mode);
  await restartSpeaker(state, launcher, lost);
  if (state.mode === 'layer2') {
    // Once its speaker holds its Lease again, the returning node takes part in elections.
    if (!(await pollValue(() => holdsLease(admin, lost.name), (held) => held, 20_000, 100))) throw new Error(`${lost.name}'s restarted speaker holds no Lease after 20 s; see logs/speaker-${lost.name}.log`);
    for (const ip of ips) out(`demo: ${ip} is answered by ${(await holders(admin, ip)).join(', ') || 'nobody'} (an address does not move back when a node returns)`);
    await showStatus(admin, out);
    return;
  }
  for (const ip of ips) {
    const back = await pollValue(() => birdRoute(state, ip), (text) => (text.match(/via /g) ?? []).length === state.nodes.length, 20_000, 200);
    if ((back.match(/via /g) ?? []).length !== state.nodes.length) throw new Error(`BIRD has no path to ${ip} from the restored ${lost.name} after 20 s; see logs/speaker-${lost.name}.log`);
    out(`demo: ${lost.name} announces ${ip} again; BIRD's view:\n${indent(back)}`);
  }
}

/**
 * Freezes the lab's kube-apiserver (SIGSTOP) for apiOutageMs while the client keeps probing,
 * thaws it, and shows that every address kept being served by the same node (ADR 0017).
 */
async function freezeApiServer(state: LabState, launcher: LabLauncher, admin: KubeCredentials, probes: readonly Probe[], owners: ReadonlyMap<string, string>, out: (line: string) => void): Promise<boolean> {
  const apiserver = state.processes.find((r) => r.role === 'kube-apiserver');
  if (apiserver === undefined || !isOurs(apiserver)) throw new Error('found no kube-apiserver this lab started');
  const birdBefore = state.mode === 'bgp' ? await Promise.all(probes.map((p) => birdRoute(state, p.address))) : [];
  out(`demo: freezing the kube-apiserver (PID ${apiserver.pid}) with SIGSTOP for ${apiOutageMs / 1000} s (t = 0): no node can renew, claim or read anything`);
  const at = Date.now();
  signal(apiserver.pid, 'SIGSTOP');
  try {
    for (let second = 2; second <= apiOutageMs / 1000; second += 2) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      if (second === 4 && state.mode === 'layer2') {
        // The client forgets who has the addresses, so it must ask again during the outage.
        for (const p of probes) await inNs(state.clientNs, ['ip', 'neigh', 'flush', 'to', p.address], true);
        out('demo: t = 4 s, the client flushed its neighbour cache: its next connection asks ARP/NDP again, during the outage');
      }
      const recent = probes.map((p) => {
        const attempts = p.attempts(Date.now() - 2000);
        const served = [...new Set(attempts.filter((a) => a.ok).map((a) => a.answer))].join(', ') || 'nobody';
        return `${p.address}: ${attempts.filter((a) => a.ok).length} of ${attempts.length} probes answered, by ${served}`;
      });
      out(`demo: t = ${second} s, API server still frozen; ${recent.join('; ')}`);
    }
  } finally {
    signal(apiserver.pid, 'SIGCONT');
  }
  out(`demo: kube-apiserver thawed (SIGCONT) at ${sinceZero(Date.now() - at)}`);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const controller = state.processes.find((r) => r.role === 'controller');
  if (controller === undefined || !isOurs(controller)) {
    // The controller gives up leadership it cannot renew and exits; in a cluster the kubelet
    // restarts it. The speakers never depended on it for answering.
    out('demo: the controller exited during the freeze (it could not renew its leader Lease; in a cluster the kubelet restarts it); restarting it');
    state.processes = state.processes.filter((r) => r.role !== 'controller');
    writeState(state.dir, state);
    await launcher.start(controllerLaunch(state.controllerNs, join(state.dir, 'controller.kubeconfig')));
  }
  let ok = true;
  for (const p of probes) {
    const attempts = p.attempts(at);
    const failed = attempts.filter((a) => !a.ok);
    const answeredBy = [...new Set(attempts.filter((a) => a.ok).map((a) => a.answer))].sort();
    out(`demo: client during the freeze and 3 s after, for ${p.address}: ${attempts.length - failed.length} of ${attempts.length} probes answered, by ${answeredBy.join(', ') || 'nobody'}`);
    if (failed.length > 0) ok = false;
  }
  if (state.mode === 'layer2') {
    for (const [ip, owner] of owners) {
      const now = await singleOwner(admin, ip);
      out(`demo: ${ip} is answered by ${now} ${now === owner ? '(as before the freeze: nothing moved)' : `(it was ${owner}: it moved)`}`);
      if (now !== owner) ok = false;
    }
    out(`demo: expected: no failed probe and nothing moved. The speakers hold their addresses by staying in contact with each other on UDP 7947 (ADR 0017); with the Lease alone (ADR 0013, one or two speakers) every address would have gone dark about 1.5 s into the freeze`);
  } else {
    for (const [i, p] of probes.entries()) {
      const after = await birdRoute(state, p.address);
      const same = after === birdBefore[i];
      out(`demo: BIRD's view of ${p.address} after the freeze ${same ? '(unchanged)' : '(changed)'}:\n${indent(after)}`);
      if (!same) ok = false;
    }
  }
  return ok;
}

/** Follows one address through the loss of `lost` at `at`: who took over, and the client's outage. */
async function followFailover(state: LabState, admin: KubeCredentials, p: Probe, owner: string | undefined, lost: LabNodeState, at: number): Promise<{ lines: string[]; outageMs?: number }> {
  if (state.mode === 'layer2') {
    if (owner !== lost.name) return { lines: [`demo: ${p.address} stays with ${owner ?? '?'}`] };
    const next = await singleOwner(admin, p.address, lost.name);
    const inLease = Date.now() - at;
    const o = await outage(p, at, next);
    return {
      outageMs: o.outageMs,
      lines: [
        `demo: ${next} took over ${p.address} (its Lease said so at ${sinceZero(inLease)})`,
        `demo: client outage for ${p.address}: ${o.outageMs} ms (no answer from ${sinceZero(o.lastAnswerAt - at)} to ${sinceZero(o.nextAnswerAt - at)}, the first from ${next})`,
      ],
    };
  }
  const lostPath = `via ${p.address.includes(':') ? lost.ipv6 : lost.ipv4} `;
  const gone = await pollValue(() => birdRoute(state, p.address), (text) => !text.includes(lostPath), 15_000, 50);
  if (gone.includes(lostPath)) throw new Error(`BIRD still routes ${p.address} to ${lost.name} 15 s after its loss; see "birdc -s ${state.birdSocket ?? ''} show protocols"`);
  const droppedAt = Date.now() - at;
  // An attempt is logged when it ends (a timeout after 300 ms): wait for five good ones begun after the withdrawal.
  await outage(p, Date.now());
  const since = p.attempts(at);
  const failed = since.filter((a) => !a.ok);
  const failingMs = (failed.at(-1)?.at ?? at) - at;
  return {
    outageMs: failingMs,
    lines: [
      `demo: BIRD dropped ${lost.name}'s path to ${p.address} at ${sinceZero(droppedAt)}; its view now:\n${indent(gone)}`,
      `demo: client outage for ${p.address}: ${failingMs} ms (${failed.length} of ${since.length} connections since the loss failed: those ECMP sent to ${lost.name}, until BFD took its path away; the others were served throughout)`,
    ],
  };
}

/** Prints the table `vipcast status` would print for the lab. */
async function showStatus(admin: KubeCredentials, out: (line: string) => void): Promise<void> {
  const [services, leases, configMap] = await Promise.all([
    kubeExpectOk(admin, '/api/v1/services') as Promise<{ items?: ServiceView[] }>,
    kubeExpectOk(admin, '/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases') as Promise<{ items?: SpeakerLeaseObject[] }>,
    kubeExpectOk(admin, '/api/v1/namespaces/vipcast-system/configmaps/vipcast-config') as Promise<ConfigMapObject>,
  ]);
  const verdict = configFromConfigMap(configMap);
  const rows = statusRows(services.items ?? [], leases.items ?? [], verdict.ok ? verdict.config : undefined, Date.now());
  out('demo: vipcast status says:');
  for (const line of formatStatus(rows).split('\n')) out(`    ${line}`);
}

/** Waits until BIRD has a path from every node for each address and BFD is Up with each node. */
async function bgpSettled(state: LabState, ips: readonly string[]): Promise<void> {
  const peers = state.nodes.flatMap((n) => [...(state.family !== 'ipv6' ? [n.ipv4] : []), ...(state.family !== 'ipv4' ? [n.ipv6] : [])]);
  const settled = async (): Promise<boolean> => {
    const bfd = await birdc(state.birdSocket ?? '', ['show', 'bfd', 'sessions']);
    const up = peers.every((peer) => new RegExp(`^${peer.replace(/[.]/g, '\\.')}\\s+\\S+\\s+Up`, 'm').test(bfd));
    const routes = await Promise.all(ips.map((ip) => birdRoute(state, ip)));
    return up && routes.every((text) => (text.match(/via /g) ?? []).length === state.nodes.length);
  };
  if (!(await pollValue(settled, (ok) => ok, 30_000, 200))) throw new Error(`BIRD did not get a path and a BFD session Up from every node within 30 s; see "birdc -s ${state.birdSocket ?? ''} show protocols all"`);
}

async function birdRoute(state: LabState, ip: string): Promise<string> {
  const text = await birdc(state.birdSocket ?? '', ['show', 'route', 'for', ip]);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^BIRD|^Table/.test(line))
    .join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

