// `vipcast speaker`: the DaemonSet's program. Decides which VIPs its node announces and drives
// the layer-2 speakers (claimed through per-node Leases, held by a quorum of peers on the peer
// channel, ADR 0017) and the BGP announcer. Metrics, /healthz and /readyz on the metrics port.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Layer2Speaker } from '../../speakers/layer2/speaker.js';
import { responderOutcomes } from '../../speakers/layer2/responder.js';
import { defaultAnnouncementTiming } from '../../speakers/layer2/announcer.js';
import { configMapRef } from '../config/source.js';
import { configMapHelp, configMapOptions, formatLocation, readConfigMapFlags } from './config-map-flags.js';
import { parseFlagDuration } from '../config/duration.js';
import { EventLoopLag, RenewalWrites, defaultHealthLimits as limits, evaluateHealth, trackRequests } from '../observability/health.js';
import { startHttpServer } from '../observability/http-server.js';
import { EventRecorder, reportDroppedEvents } from '../k8s/events.js';
import { loadApiAccess } from '../k8s/kubeconfig.js';
import { createKubeRest } from '../k8s/rest.js';
import { createLogger, isLogLevel, type Logger } from '../log.js';
import { watchNetwork } from '../net/netlink.js';
import { LinkFacts } from '../speaker/links.js';
import type { Pool } from '../config/types.js';
import { SpeakerBgp } from '../speaker/bgp-announcer.js';
import { reportBgpEvent } from '../speaker/bgp-events.js';
import { speakerHealthChecks } from '../speaker/health-checks.js';
import { createSpeakerMetrics } from '../speaker/metrics.js';
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

/** Runs the speaker until SIGTERM/SIGINT (exit 0); 1 when it cannot start; 2 on usage errors. */
export async function speakerCommand(args: string[]): Promise<number> {
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
    refreshMs = values.refresh === '0' ? 0 : parseFlagDuration(values.refresh);
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
  const config = configFlags.location;
  const log = createLogger(level, { component: 'speaker', node });
  let access;
  try {
    access = await loadApiAccess({ kubeconfig: values.kubeconfig });
  } catch (error) {
    log.error('cannot load a kubeconfig', { error: String(error) });
    return 1;
  }

  const metrics = createSpeakerMetrics({
    ipvsLooseArp: () => ipvs.loose,
    peer: () => {
      const status = runtime.ownership.status();
      return {
        members: status.members.length,
        contacts: status.contacts.length,
        holding: status.holding,
        apiOkAgeMs: status.apiOkAgeMs,
        dropped: peer?.counters.dropped ?? {},
        declarations: peer?.counters.declarationsMade ?? 0,
      };
    },
    counts: () => ({ layer2Elections: runtime.ownership.elections, leaseWriteFailures: lease.failures, layer2RequestsAnswered: runtime.answered() }),
    announced: () => runtime.counts(),
    layer2Frames: () => {
      const total = { answered: 0, rateLimited: 0, malformed: 0, hopLimit: 0, otherHost: 0, conflict: 0 };
      for (const speaker of openSpeakers.keys()) {
        const o = responderOutcomes(speaker.counters().responder);
        total.answered += o.answered;
        total.rateLimited += o['rate-limited'];
        total.malformed += o.malformed;
        total.hopLimit += o['hop-limit'];
        total.otherHost += o['not-for-us'];
        total.conflict += o.conflict;
      }
      return total;
    },
  });
  // Each open layer-2 speaker and the interface it answers on.
  const openSpeakers = new Map<Layer2Speaker, string>();
  const ipvs = new IpvsArpCheck({
    interfaces: () => [...new Set(openSpeakers.values())],
    onChange: (loose) => reportIpvsArp(loose, { node, log, events }),
  });

  const clock = (): number => performance.now();
  const rest = createKubeRest(access, { fieldManager: speakerFieldManager });
  // Lease writes get a short timeout: a renewal slower than the lease cannot help. Each is
  // recorded for /healthz, which tells a stuck renewal loop from an unreachable API server.
  const leaseWrites = new RenewalWrites('Lease renewal', { stalledMs: limits.leaseStalledMs, refusedMs: limits.leaseRefusedMs }, ({ failing, message }) =>
    failing ? log.warn(message, { lease: `${speakerLeasePrefix}${node}` }) : log.info(message, { lease: `${speakerLeasePrefix}${node}` }),
  );
  const leaseRest = trackRequests(
    createKubeRest(access, { fieldManager: speakerFieldManager, timeoutMs: Math.max(250, timing.durationMs - timing.marginMs - timing.renewIntervalMs), maxSockets: 2 }),
    leaseWrites,
    clock,
  );
  const events = new EventRecorder(rest, {
    controller: 'vipcast.io/speaker',
    instance: node,
    onWrite: () => metrics.apiWrites.inc({ kind: 'event' }),
    onError: (error, intent) => log.warn('cannot write an Event', { reason: intent.reason, error: String(error) }),
    onDropped: reportDroppedEvents((message, fields) => log.warn(message, fields), () => metrics.eventsDropped.inc()),
  });
  const lease = new SpeakerLease(leaseRest, values.namespace, node, timing, clock);
  let peer: PeerMesh | undefined;
  if (peerAddress === '') {
    log.warn('no peer address (--peer-address or $PEER_ADDRESS): layer-2 VIPs follow the Lease alone and stop being answered while the API server is unreachable');
  } else {
    try {
      const key = await loadPeerKey(rest, values.namespace, values['peer-key-secret']);
      const endpoint = { address: peerAddress, port: peerPort };
      const socket = await openUdpPeerSocket(endpoint, (packet, from) => peer?.receive(packet, from), (error) => log.debug('peer channel', { error: String(error) }));
      peer = new PeerMesh({ self: node, key, timing: defaultPeerTiming, clock, socket, apiOkAgeMs: () => apiOkAgeMs(lease, clock()), onChange: () => runtime.ownership.peerChanged() });
      lease.peer = endpoint;
      log.info('peer channel open', { address: peerAddress, port: peerPort });
    } catch (error) {
      log.error('cannot open the peer channel', { address: peerAddress, port: peerPort, error: String(error) });
      return 1;
    }
  }
  const defaultInterface = values.interface;
  // The kernel's links and routes, read once per change the kernel reports (ADR 0022).
  const links = new LinkFacts((what, error) => log.warn(what, { error: String(error) }));
  const interfacesFor = (pool: Pool, vip: string): string[] => {
    const names = pool.interfaces.length > 0 ? pool.interfaces : [defaultInterface ?? links.routedInterface(vip)];
    return names.filter((name): name is string => name !== undefined && links.carries(name));
  };
  const layer2Timing = { ...defaultAnnouncementTiming, refreshIntervalMs: refreshMs };
  const bgp = new SpeakerBgp({
    node,
    nodeLabels: () => runtime.nodeLabels(node),
    routerId: values['router-id'],
    onEvent: (peer, event) => reportBgpEvent(peer, event, { metrics, log, runtime }),
  });
  const runtime: SpeakerRuntime = new SpeakerRuntime({

    rest,
    node,
    namespace: values.namespace,
    configMapNamespace: config.namespace,
    configMapName: config.name,
    configSource: config.source,
    loadBalancerClass: values['load-balancer-class'],
    lease,
    clock,
    log,
    events,
    interfacesFor,
    openLink: (name) => {
      const speaker = Layer2Speaker.open(name, {
        timing: layer2Timing,
        gate: (vip) => runtime.ownership.mayAnswer(vip),
        onError: (message) => log.warn('layer-2 speaker', { interface: name, message }),
        onConflict: (vip, mac) => runtime.reportConflict(vip, mac, name),
      });
      openSpeakers.set(speaker, name);
      ipvs.check();
      return {
        announce: (vip) => speaker.announce(vip),
        release: (vip) => speaker.release(vip),
        answered: () => speaker.counters().responder.answered,
        close: () => {
          openSpeakers.delete(speaker);
          speaker.close();
        },
      };
    },
    bgp,
    peer,
  });

  const lag = new EventLoopLag({ thresholdMs: limits.lagThresholdMs, sustainedMs: limits.lagSustainedMs });
  lag.start(clock, limits.lagIntervalMs);
  const checks = speakerHealthChecks({ informers: () => runtime.informersHealth(), lease: leaseWrites.check, eventLoop: lag.check });
  let http;
  try {
    http = await startHttpServer({
      address: values['metrics-address'],
      registry: metrics.registry,
      health: () => evaluateHealth(checks, clock()),
      ready: () => runtime.synced,
      state: () => ({ node, synced: runtime.synced, vips: runtime.describe(), layer2: runtime.ownership.status() }),
    });
  } catch (error) {
    log.error('cannot listen on the metrics address', { address: values['metrics-address'], error: String(error) });
    lag.stop();
    return 1;
  }
  log.info('speaker started', { metricsPort: http.port, namespace: values.namespace, configSource: config.source, configMap: formatLocation(config), ...timing, refreshMs });
  // kube-proxy's IPVS mode without strictARP: checked now and every 30 s (cheap /proc reads).
  ipvs.check();
  const ipvsTimer = setInterval(() => ipvs.check(), 30_000);
  const stopWatch = watchLinks(links, () => runtime.schedule(), log);

  let finish: (signal: string) => void = () => undefined;
  const finished = new Promise<string>((resolve) => (finish = resolve));
  const onTerm = (): void => finish('SIGTERM');
  const onInt = (): void => finish('SIGINT');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);
  runtime.start().catch((error: unknown) => {
    log.error('speaker failed to start', { error: String(error) });
    finish('error');
  });
  const signal = await finished;
  process.removeListener('SIGTERM', onTerm);
  process.removeListener('SIGINT', onInt);
  log.info('stopping', { signal });
  clearInterval(ipvsTimer);
  stopWatch();
  lag.stop();
  await runtime.stop();
  // What the stop just reported (one Event per Service) must not keep us past the grace period.
  events.close();
  const closed = new Promise<void>((resolve) => http.server.close(() => resolve()));
  http.server.closeAllConnections();
  await closed;
  log.info('speaker stopped', {});
  return signal === 'error' ? 1 : 0;
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
