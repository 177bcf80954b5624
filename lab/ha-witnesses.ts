// Independent witnesses for the HA control-plane lab: the kernel's own address events
// (`ip monitor address` in every node), `ip addr` samples of all nodes, a capture of the
// client's switch port, and the client's /readyz probe through the VIP. None of them is
// vipcast code; the test reads their output with the functions here.
import { waitUntil, type Capture, type HostProcess } from './netns.js';
import { HA_VIP, type HaLab } from './ha-lab.js';
import { readCapture } from './layer2-lab.js';
import { labProgram } from './paths.js';

/** The running witnesses. */
export interface Witnesses {
  /** `ip -ts monitor address dev eth0`, one per node, in node order. */
  readonly monitors: readonly HostProcess[];
  /** A shell loop printing `S a b c a b` (1 = the VIP is on that node's eth0), nodes read in that order. */
  readonly sampler: HostProcess;
  /** The client's /readyz probe through the VIP. */
  readonly probe: HostProcess;
  /** Capture of the client's switch port. */
  readonly capture: Capture;
}

/** Probe interval (ms). */
export const PROBE_INTERVAL_MS = 50;

/** Starts every witness. */
export async function startWitnesses(lab: HaLab): Promise<Witnesses> {
  const monitors = lab.nodes.map((n) => lab.topo.start(n.host, ['ip', '-ts', 'monitor', 'address', 'dev', 'eth0']));
  const [a, b, c] = lab.nodes.map((n) => n.host.ns);
  const read = (ns: string | undefined): string =>
    `if ip -n ${ns ?? ''} -o -4 addr show dev eth0 | grep -q ' ${HA_VIP}/32 '; then printf ' 1'; else printf ' 0'; fi`;
  const sampler = lab.topo.start(lab.client, ['sh', '-c', `while :; do printf S; ${[a, b, c, a, b].map(read).join('; ')}; echo; sleep 0.1; done`]);
  const capture = await lab.topo.capture(lab.sw, 'p-client');
  return { monitors, sampler, probe: startProbe(lab), capture };
}

/** Starts the client's /readyz probe through the VIP. */
export function startProbe(lab: HaLab): HostProcess {
  return lab.topo.start(lab.client, ['node', labProgram('readyz-probe'), `https://${HA_VIP}:6443/readyz`, lab.caFile, String(PROBE_INTERVAL_MS), '500']);
}

/** Waits until the client has had `count` successful requests started after eventMs, then measures the outage. */
export async function outageOnceServed(probe: HostProcess, eventMs: number, count = 20): Promise<Outage> {
  const results = (): ProbeResult[] => probeResults({ probe });
  await waitUntil(() => results().filter((r) => r.at > eventMs && r.ok).length, (n) => n >= count, 20_000, 100);
  return outageAfter(results(), eventMs, 20_000);
}

/** A time interval (ms since the epoch) during which a node held the VIP; end is Infinity while it still does. */
export interface HoldInterval {
  readonly node: string;
  readonly start: number;
  readonly end: number;
}

/** Turns the monitors' output into hold intervals. */
export function holdIntervals(lab: HaLab, witnesses: Witnesses): HoldInterval[] {
  const out: HoldInterval[] = [];
  lab.nodes.forEach((node, i) => {
    let since: number | undefined;
    for (const line of witnesses.monitors[i]?.lines ?? []) {
      const match = /^\[([0-9T:.-]+)\]\s+(Deleted\s+)?\d+:\s+\S+\s+inet\s+([0-9.]+)\/32/.exec(line);
      if (match === null || match[3] !== HA_VIP) continue;
      const at = new Date(match[1] ?? '').getTime();
      if (match[2] === undefined) {
        since ??= at;
      } else if (since !== undefined) {
        out.push({ node: node.name, start: since, end: at });
        since = undefined;
      }
    }
    if (since !== undefined) out.push({ node: node.name, start: since, end: Infinity });
  });
  return out.sort((x, y) => x.start - y.start);
}

/** Pairs of intervals of different nodes that overlap: each one is two holders at once. */
export function overlappingHolds(intervals: readonly HoldInterval[]): [HoldInterval, HoldInterval][] {
  const out: [HoldInterval, HoldInterval][] = [];
  for (let i = 0; i < intervals.length; i++) {
    for (let j = i + 1; j < intervals.length; j++) {
      const x = intervals[i];
      const y = intervals[j];
      if (x && y && x.node !== y.node && x.start < y.end && y.start < x.end) out.push([x, y]);
    }
  }
  return out;
}

/**
 * Samples proving two holders: a node seen holding on both of its reads with another node
 * seen holding between them (reads go a, b, c, a, b).
 */
export function samplesWithTwoHolders(witnesses: Witnesses): { samples: number; violations: string[] } {
  let samples = 0;
  const violations: string[] = [];
  for (const line of witnesses.sampler.lines) {
    const bits = line.split(' ').slice(1).map((b) => b === '1');
    if (bits.length !== 5) continue;
    samples++;
    const [a1, b1, c, a2, b2] = bits;
    if ((a1 && a2 && (b1 || c)) || (b1 && b2 && (c || a2))) violations.push(line);
  }
  return { samples, violations };
}

/** ARP frames on the client's port that claim the VIP (sender IP = VIP): time (ms) and MAC. */
export function captureClaims(file: string): { ms: number; mac: string }[] {
  const claims: { ms: number; mac: string }[] = [];
  for (const { micros, frame } of readCapture(file)) {
    if (frame === undefined || frame instanceof Error || frame.kind !== 'arp') continue;
    if (frame.frame.arp.senderIp !== HA_VIP) continue;
    claims.push({ ms: Number(micros / 1000n), mac: frame.frame.arp.senderMac.toLowerCase() });
  }
  return claims;
}

/** The runs of consecutive claims by the same MAC, in time order. */
export function claimRuns(claims: readonly { ms: number; mac: string }[]): { mac: string; first: number; last: number; count: number }[] {
  const runs: { mac: string; first: number; last: number; count: number }[] = [];
  for (const claim of claims) {
    const last = runs[runs.length - 1];
    if (last?.mac === claim.mac) {
      last.last = claim.ms;
      last.count++;
    } else {
      runs.push({ mac: claim.mac, first: claim.ms, last: claim.ms, count: 1 });
    }
  }
  return runs;
}

/** One probe request: its start (ms since the epoch), whether it succeeded, and which node answered. */
export interface ProbeResult {
  readonly at: number;
  readonly ok: boolean;
  readonly detail: string;
}

/** Parses the probe's output. */
export function probeResults(witnesses: Pick<Witnesses, 'probe'>): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (const line of witnesses.probe.lines) {
    const [at, verdict, detail = ''] = line.split(' ');
    if (at === undefined || verdict === undefined) continue;
    out.push({ at: Number(at), ok: verdict === 'ok', detail });
  }
  return out.sort((x, y) => x.at - y.at);
}

/** What the client saw around an event. */
export interface Outage {
  /** Longest time without a successful request start after the event, minus one probe interval (ms). */
  readonly outageMs: number;
  /** Failed requests started after the event. */
  readonly failures: number;
  /** The node that answered last before the event and the first one after the gap. */
  readonly before: string | undefined;
  readonly after: string | undefined;
}

/**
 * Measures the outage the client saw after an event at eventMs, within windowMs: the longest
 * gap between successful requests (one starts every PROBE_INTERVAL_MS) that spans or follows
 * the event.
 */
export function outageAfter(results: readonly ProbeResult[], eventMs: number, windowMs: number): Outage {
  const inWindow = results.filter((r) => r.at >= eventMs - 500 && r.at <= eventMs + windowMs);
  const oks = inWindow.filter((r) => r.ok);
  const before = [...oks].reverse().find((r) => r.at <= eventMs)?.detail;
  let maxGap = 0;
  let after: string | undefined;
  let previous = [...oks].reverse().find((r) => r.at <= eventMs)?.at ?? eventMs;
  for (const r of oks) {
    if (r.at <= previous) continue;
    if (r.at - previous > maxGap) {
      maxGap = r.at - previous;
      after = r.detail;
    }
    previous = r.at;
  }
  const failures = inWindow.filter((r) => !r.ok && r.at >= eventMs).length;
  after ??= oks.find((r) => r.at > eventMs)?.detail;
  return { outageMs: Math.max(0, Math.round(maxGap - PROBE_INTERVAL_MS)), failures, before, after };
}
