// `vipcast speaker`: the DaemonSet's program. Decides which VIPs its node announces and drives
// the layer-2 speakers (claimed through per-node Leases, held by a quorum of peers on the peer
// channel, ADR 0017) and the BGP announcer. Metrics, /healthz and /readyz on the metrics port.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Layer2Speaker } from '../../speakers/layer2/speaker.js';
import { defaultAnnouncementTiming, type AnnouncementTiming } from '../../speakers/layer2/announcer.js';
import { configMapRef } from '../config/source.js';
import { configMapHelp, configMapOptions, locationFields, readConfigMapFlags, type ConfigLocation } from './config-map-flags.js';
import { isSignal, waitForStop } from './stop.js';
import { parseFlagDuration } from '../config/duration.js';
import { EventLoopLag, RenewalWrites, defaultHealthLimits as limits, evaluateHealth, trackRequests } from '../observability/health.js';
import { closeHttpServer, startHttpServer } from '../observability/http-server.js';
import { EventRecorder, reportDroppedEvents } from '../k8s/events.js';
import { loadApiAccess, type ApiAccess } from '../k8s/kubeconfig.js';
import { createKubeRest, type KubeRest } from '../k8s/rest.js';
import { createLogger, isLogLevel, type Logger, type LogLevel } from '../log.js';
import { watchNetwork } from '../net/netlink.js';
import { LinkFacts } from '../speaker/links.js';
import type { Pool } from '../config/types.js';
import { SpeakerBgp } from '../speaker/bgp-announcer.js';
import { reportBgpEvent } from '../speaker/bgp-events.js';
import { speakerHealthChecks } from '../speaker/health-checks.js';
import { createSpeakerMetrics, layer2FrameTotals } from '../speaker/metrics.js';
import type { LinkSpeaker } from '../speaker/layer2-protocol.js';
import { SpeakerRuntime } from '../speaker/runtime.js';
import { SpeakerLease, defaultSpeakerLeaseTiming, speakerLeasePrefix, type SpeakerLeaseTiming } from '../speaker/speaker-lease.js';
import { PeerMesh } from '../../speakers/peer/mesh.js';
import { defaultPeerTiming } from '../../speakers/peer/quorum.js';
import { openUdpPeerSocket } from '../../speakers/peer/udp.js';
import { IpvsArpCheck, reportIpvsArp } from '../speaker/ipvs-arp.js';
import { apiOkAgeMs } from '../speaker/layer2-ownership.js';
import { loadPeerKey, peerKeySecret } from '../speaker/peer-key.js';
import { isIP } from 'node:net';

/** The fieldManager of every write the speaker makes. */
export const speakerFieldManager = 'vipcast-speaker';

const help = `usage: vipcast speaker [options]

Runs on every node (DaemonSet, hostNetwork). Announces the addresses of LoadBalancer
Services: in layer-2 pools one node per address answers ARP/NDP, chosen through per-node
Leases in the vipcast namespace; in BGP pools every eligible node announces a host route.

options:
  --node NAME                  this node's name (default: $NODE_NAME)
  --kubeconfig PATH            kubeconfig to use (default: the in-cluster ServiceAccount)
  --namespace NS               namespace of the Leases and the peer key Secret, and of
                               vipcast's ConfigMap (vipcast-system)
${configMapHelp}
  --load-balancer-class CLASS  also serve Services of this spec.loadBalancerClass
  --interface IF               announce layer-2 pools without "interfaces" here
                               (default: the interface that routes to the address)
  --router-id ID               BGP identifier for peers without router-id (default: our IPv4
                               address on each session, else one derived from the node name)
  --lease-duration D           speaker Lease duration (1800ms): a lost node's VIPs move after it
  --lease-renew D              renewal interval (500ms)
  --lease-margin D             stop answering this long before our Lease could expire (200ms)
  --refresh D                  layer-2 re-announcement interval (10s; 0 turns it off)
  --peer-address ADDR          this node's address for the peer channel (default: $PEER_ADDRESS);
                               without one, layer-2 VIPs follow the Lease alone (ADR 0013) and
                               go dark when the API server is unreachable
  --peer-port PORT             UDP port of the peer channel (7947)
  --peer-key-secret NAME       Secret holding the peer channel's key (vipcast-peer-key),
                               created by the first speaker when missing
  --metrics-address HOST:PORT  /metrics, /healthz, /readyz (0.0.0.0:7473)
  --log-level LEVEL            debug, info, warn or error (info)

On SIGTERM the node stops answering, releases its Lease so another node takes over at once,
withdraws its BGP routes with a shutdown message, and exits 0.`;

/** What the command line asks for, checked. */
interface SpeakerOptions {
  readonly node: string;
  readonly level: LogLevel;
  readonly kubeconfig: string | undefined;
  readonly namespace: string;
  readonly config: ConfigLocation;
  readonly loadBalancerClass: string | undefined;
  readonly interface: string | undefined;
  readonly routerId: string | undefined;
  readonly timing: SpeakerLeaseTiming;
  readonly refreshMs: number;
  /** The peer channel's endpoint; undefined without one. */
  readonly peer: { readonly address: string; readonly port: number } | undefined;
  readonly peerKeySecret: string;
  readonly metricsAddress: string;
}

/** Runs the speaker until SIGTERM/SIGINT (exit 0); 1 when it cannot start; 2 on usage errors. */
export async function speakerCommand(args: string[]): Promise<number> {
  const options = readSpeakerOptions(args);
  if (typeof options === 'number') return options;
  const log = createLogger(options.level, { component: 'speaker', node: options.node });
  let access;
  try {
    access = await loadApiAccess({ kubeconfig: options.kubeconfig });
  } catch (error) {
    log.error('cannot load a kubeconfig', { error: String(error) });
    return 1;
  }
  return runSpeaker(options, access, log);
}

/** Parses and checks the flags; an exit code (0 for --help, 2 for a usage error) when there is nothing to run. */
function readSpeakerOptions(args: string[]): SpeakerOptions | number {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        help: { type: 'boolean', short: 'h' },
        node: { type: 'string' },
        kubeconfig: { type: 'string' },
        namespace: { type: 'string', default: configMapRef.namespace },
        ...configMapOptions,
        'load-balancer-class': { type: 'string' },
        interface: { type: 'string' },
        'router-id': { type: 'string' },
        'lease-duration': { type: 'string', default: `${defaultSpeakerLeaseTiming.durationMs}ms` },
        'lease-renew': { type: 'string', default: `${defaultSpeakerLeaseTiming.renewIntervalMs}ms` },
        'lease-margin': { type: 'string', default: `${defaultSpeakerLeaseTiming.marginMs}ms` },
        refresh: { type: 'string', default: `${defaultAnnouncementTiming.refreshIntervalMs / 1000}s` },
        'metrics-address': { type: 'string', default: '0.0.0.0:7473' },
        'peer-address': { type: 'string' },
        'peer-port': { type: 'string', default: '7947' },
        'peer-key-secret': { type: 'string', default: peerKeySecret },
        'log-level': { type: 'string', default: 'info' },
      },
    }));
  } catch (error) {
    console.error(`vipcast speaker: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  if (values.help) {
    console.log(help);
    return 0;
  }
  const node = values.node ?? process.env['NODE_NAME'];
  const level = values['log-level'];
  const problems: string[] = [];
  if (node === undefined || node === '') problems.push('--node (or $NODE_NAME) is required');
  if (!isLogLevel(level)) problems.push(`unknown log level "${level}"`);
  let timing: SpeakerLeaseTiming = defaultSpeakerLeaseTiming;
  let refreshMs = defaultAnnouncementTiming.refreshIntervalMs;
  try {
    timing = { durationMs: parseFlagDuration(values['lease-duration']), renewIntervalMs: parseFlagDuration(values['lease-renew']), marginMs: parseFlagDuration(values['lease-margin']) };
    refreshMs = parseFlagDuration(values.refresh);
    if (timing.marginMs >= timing.durationMs) problems.push('--lease-margin must be shorter than --lease-duration');
    if (timing.renewIntervalMs * 2 > timing.durationMs - timing.marginMs) problems.push('--lease-renew must leave room for two renewals within --lease-duration minus --lease-margin');
  } catch (error) {
    problems.push((error as Error).message);
  }
  const peerAddress = values['peer-address'] ?? process.env['PEER_ADDRESS'] ?? '';
  const peerPort = Number(values['peer-port']);
  if (peerAddress !== '' && isIP(peerAddress) === 0) problems.push(`--peer-address "${peerAddress}" is not an IP address`);
  if (!Number.isInteger(peerPort) || peerPort < 1 || peerPort > 65535) problems.push(`--peer-port "${values['peer-port']}" is not a port (1-65535)`);
  const configFlags = readConfigMapFlags(values, values.namespace);
  if (!configFlags.ok) problems.push(configFlags.message);
  if (problems.length > 0 || node === undefined || !isLogLevel(level) || !configFlags.ok) {
    for (const problem of problems) console.error(`vipcast speaker: ${problem}`);
    return 2;
  }
  return {
    node,
    level,
    kubeconfig: values.kubeconfig,
    namespace: values.namespace,
    config: configFlags.location,
    loadBalancerClass: values['load-balancer-class'],
    interface: values.interface,
    routerId: values['router-id'],
    timing,
    refreshMs,
    peer: peerAddress === '' ? undefined : { address: peerAddress, port: peerPort },
    peerKeySecret: values['peer-key-secret'],
    metricsAddress: values['metrics-address'],
  };
}

/** Wires the speaker's parts together, serves until stopped, and stops them in order. */
async function runSpeaker(options: SpeakerOptions, access: ApiAccess, log: Logger): Promise<number> {
  const { node, timing } = options;
  // Each open layer-2 speaker and the interface it answers on.
  const openSpeakers = new Map<Layer2Speaker, string>();
  const metrics = createSpeakerMetrics({
    ipvsLooseArp: () => ipvs.loose,
    peer: () => {
      const status = runtime.ownership.status();
      return { members: status.members.length, contacts: status.contacts.length, holding: status.holding, apiOkAgeMs: status.apiOkAgeMs, dropped: peer?.counters.dropped ?? {}, declarations: peer?.counters.declarationsMade ?? 0 };
    },
    counts: () => ({ layer2Elections: runtime.ownership.elections, leaseWriteFailures: lease.failures, layer2RequestsAnswered: runtime.answered() }),
    announced: () => runtime.counts(),
    layer2Frames: () => layer2FrameTotals([...openSpeakers.keys()].map((speaker) => speaker.counters().responder)),
  });
  const ipvs = new IpvsArpCheck({
    interfaces: () => [...new Set(openSpeakers.values())],
    onChange: (loose) => reportIpvsArp(loose, { node, log, events }),
  });

  const clock = (): number => performance.now();
  const rest = createKubeRest(access, { fieldManager: speakerFieldManager });
  const { lease, leaseWrites } = openSpeakerLease(options, access, log, clock);
  const events = new EventRecorder(rest, {
    controller: 'vipcast.io/speaker',
    instance: node,
    onWrite: () => metrics.apiWrites.inc({ kind: 'event' }),
    onError: (error, intent) => log.warn('cannot write an Event', { reason: intent.reason, error: String(error) }),
    onDropped: reportDroppedEvents((message, fields) => log.warn(message, fields), () => metrics.eventsDropped.inc()),
  });
  let peer: PeerMesh | undefined;
  try {
    peer = await openPeerChannel(options, rest, lease, clock, () => runtime.ownership.peerChanged(), (packet, from) => peer?.receive(packet, from), log);
  } catch (error) {
    log.error('cannot open the peer channel', { address: options.peer?.address, port: options.peer?.port, error: String(error) });
    return 1;
  }
  // The kernel's links and routes, read once per change the kernel reports (ADR 0022).
  const links = new LinkFacts((what, error) => log.warn(what, { error: String(error) }));
  const interfacesFor = (pool: Pool, vip: string): string[] => {
    const names = pool.interfaces.length > 0 ? pool.interfaces : [options.interface ?? links.routedInterface(vip)];
    return names.filter((name): name is string => name !== undefined && links.carries(name));
  };
  const layer2Timing = { ...defaultAnnouncementTiming, refreshIntervalMs: options.refreshMs };
  const bgp = new SpeakerBgp({
    node,
    nodeLabels: () => runtime.nodeLabels(node),
    routerId: options.routerId,
    onEvent: (peer, event) => reportBgpEvent(peer, event, { metrics, log, runtime }),
  });
  const runtime: SpeakerRuntime = new SpeakerRuntime({
    rest,
    node,
    namespace: options.namespace,
    config: options.config,
    loadBalancerClass: options.loadBalancerClass,
    lease,
    clock,
    log,
    events,
    interfacesFor,
    openLink: (name) => openLayer2Link(name, { timing: layer2Timing, runtime: () => runtime, open: openSpeakers, log, opened: () => ipvs.check() }),
    bgp,
    peer,
  });

  const lag = new EventLoopLag({ thresholdMs: limits.lagThresholdMs, sustainedMs: limits.lagSustainedMs });
  lag.start(clock, limits.lagIntervalMs);
  const checks = speakerHealthChecks({ informers: () => runtime.informersHealth(), lease: leaseWrites.check, eventLoop: lag.check });
  let http;
  try {
    http = await startHttpServer({
      address: options.metricsAddress,
      registry: metrics.registry,
      health: () => evaluateHealth(checks, clock()),
      ready: () => runtime.synced,
      state: () => ({ node, synced: runtime.synced, vips: runtime.describe(), layer2: runtime.ownership.status() }),
    });
  } catch (error) {
    log.error('cannot listen on the metrics address', { address: options.metricsAddress, error: String(error) });
    lag.stop();
    return 1;
  }
  log.info('speaker started', { metricsPort: http.port, namespace: options.namespace, configSource: options.config.source, ...locationFields(options.config), ...timing, refreshMs: options.refreshMs });
  // kube-proxy's IPVS mode without strictARP: checked now and every 30 s (cheap /proc reads).
  ipvs.check();
  const ipvsTimer = setInterval(() => ipvs.check(), 30_000);
  const stopWatch = watchLinks(links, () => runtime.schedule(), log);

  const stop = waitForStop();
  runtime.start().catch((error: unknown) => {
    log.error('speaker failed to start', { error: String(error) });
    stop.stop('error');
  });
  const reason = await stop.reason;
  log.info('stopping', { signal: reason });
  clearInterval(ipvsTimer);
  stopWatch();
  lag.stop();
  await runtime.stop();
  // What the stop just reported (one Event per Service) must not keep us past the grace period.
  events.close();
  await closeHttpServer(http.server);
  log.info('speaker stopped', {});
  return isSignal(reason) ? 0 : 1;
}

/**
 * The speaker's Lease and its writes. Lease writes get a short timeout: a renewal slower than
 * the lease cannot help. Each is recorded for /healthz, which tells a stuck renewal loop from
 * an unreachable API server.
 */
function openSpeakerLease(options: SpeakerOptions, access: ApiAccess, log: Logger, clock: () => number): { lease: SpeakerLease; leaseWrites: RenewalWrites } {
  const { node, timing } = options;
  const name = `${speakerLeasePrefix}${node}`;
  const leaseWrites = new RenewalWrites('Lease renewal', { stalledMs: limits.leaseStalledMs, refusedMs: limits.leaseRefusedMs }, ({ failing, message }) =>
    failing ? log.warn(message, { lease: name }) : log.info(message, { lease: name }),
  );
  const leaseRest = trackRequests(
    createKubeRest(access, { fieldManager: speakerFieldManager, timeoutMs: Math.max(250, timing.durationMs - timing.marginMs - timing.renewIntervalMs), maxSockets: 2 }),
    leaseWrites,
    clock,
  );
  return { lease: new SpeakerLease(leaseRest, options.namespace, node, timing, clock), leaseWrites };
}

/**
 * Opens the layer-2 speaker of one interface, answering only while the ownership lets this
 * node (the gate), reporting address conflicts, and kept in `open` (for the frame metrics and
 * the IPVS check) until it is closed.
 */
function openLayer2Link(
  name: string,
  o: { readonly timing: AnnouncementTiming; readonly runtime: () => SpeakerRuntime; readonly open: Map<Layer2Speaker, string>; readonly log: Logger; readonly opened: () => void },
): LinkSpeaker {
  const speaker = Layer2Speaker.open(name, {
    timing: o.timing,
    gate: (vip) => o.runtime().ownership.mayAnswer(vip),
    onError: (message) => o.log.warn('layer-2 speaker', { interface: name, message }),
    onConflict: (vip, mac) => o.runtime().reportConflict(vip, mac, name),
  });
  o.open.set(speaker, name);
  o.opened();
  return {
    announce: (vip) => speaker.announce(vip),
    release: (vip) => speaker.release(vip),
    answered: () => speaker.counters().responder.answered,
    close: () => {
      o.open.delete(speaker);
      speaker.close();
    },
  };
}

/**
 * Opens the peer channel (ADR 0017) when the node has a peer address: the key from its
 * Secret, the UDP socket, the mesh; undefined without an address, which leaves layer-2 VIPs
 * to the Lease alone, and says so. Rejects when the channel cannot be opened.
 */
async function openPeerChannel(
  options: SpeakerOptions,
  rest: KubeRest,
  lease: SpeakerLease,
  clock: () => number,
  onChange: () => void,
  receive: (packet: Buffer, from: { address: string; port: number }) => void,
  log: Logger,
): Promise<PeerMesh | undefined> {
  if (options.peer === undefined) {
    log.warn('no peer address (--peer-address or $PEER_ADDRESS): layer-2 VIPs follow the Lease alone and stop being answered while the API server is unreachable');
    return undefined;
  }
  const endpoint = options.peer;
  const key = await loadPeerKey(rest, options.namespace, options.peerKeySecret);
  const socket = await openUdpPeerSocket(endpoint, receive, (error) => log.debug('peer channel', { error: String(error) }));
  const peer = new PeerMesh({ self: options.node, key, timing: defaultPeerTiming, clock, socket, apiOkAgeMs: () => apiOkAgeMs(lease, clock()), onChange });
  lease.peer = endpoint;
  log.info('peer channel open', { address: endpoint.address, port: endpoint.port });
  return peer;
}

/**
 * Decides again as soon as the kernel reports a change of a link, an address, a route or a
 * rule (ADR 0022). Where the watch cannot be opened, looks afresh every second instead, and
 * says so. Returns the function that stops it.
 */
function watchLinks(links: LinkFacts, decide: () => void, log: Logger): () => void {
  const changed = (): void => {
    links.invalidate();
    decide();
  };
  try {
    const watch = watchNetwork((_messages, overflowed) => {
      if (overflowed) log.warn('the network watch lost kernel messages (socket overflow); reading links and routes afresh', {});
      changed();
    });
    return () => watch.close();
  } catch (error) {
    log.warn('cannot watch links and routes; reading them every second instead', { error: String(error) });
    const timer = setInterval(changed, 1000);
    return () => clearInterval(timer);
  }
}
