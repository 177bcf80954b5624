// `vipcast speaker`: the DaemonSet's program. Decides which VIPs its node announces and drives
// the layer-2 speakers (elected per VIP through per-node Leases, ADR 0013) and the BGP
// announcer. Metrics, /healthz and /readyz on the metrics port.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { Layer2Speaker } from '../../speakers/layer2/speaker.js';
import { defaultAnnouncementTiming } from '../../speakers/layer2/announcer.js';
import { configMapRef } from '../config/source.js';
import { parseDurationMs } from './controller.js';
import { startHttpServer } from '../controller/http-server.js';
import { EventRecorder } from '../k8s/events.js';
import { loadKubeConfig } from '../k8s/kubeconfig.js';
import { createKubeRest } from '../k8s/rest.js';
import { createLogger, isLogLevel } from '../log.js';
import { linkIsUp, readKernelRoutes, routeInterface } from '../net/routes.js';
import type { Pool } from '../config/types.js';
import { SpeakerBgp } from '../speaker/bgp-announcer.js';
import { SpeakerRuntime } from '../speaker/runtime.js';
import { SpeakerLease, defaultSpeakerLeaseTiming, type SpeakerLeaseTiming } from '../speaker/speaker-lease.js';

/** The fieldManager of every write the speaker makes. */
export const speakerFieldManager = 'vipcast-speaker';

const help = `usage: vipcast speaker [options]

Runs on every node (DaemonSet, hostNetwork). Announces the addresses of LoadBalancer
Services: in layer-2 pools one node per address answers ARP/NDP, chosen through per-node
Leases in the vipcast namespace; in BGP pools every eligible node announces a host route.

options:
  --node NAME                  this node's name (default: $NODE_NAME)
  --kubeconfig PATH            kubeconfig to use (default: the in-cluster ServiceAccount)
  --namespace NS               namespace of the ConfigMap and the Leases (vipcast-system)
  --config-map NAME            the address-pool ConfigMap (vipcast-config)
  --load-balancer-class CLASS  also serve Services of this spec.loadBalancerClass
  --interface IF               announce layer-2 pools without "interfaces" here
                               (default: the interface that routes to the address)
  --router-id ID               BGP identifier for peers without router-id (default: our IPv4
                               address on each session, else one derived from the node name)
  --lease-duration D           speaker Lease duration (1800ms): a lost node's VIPs move after it
  --lease-renew D              renewal interval (500ms)
  --lease-margin D             stop answering this long before our Lease could expire (200ms)
  --refresh D                  layer-2 re-announcement interval (10s; 0 turns it off)
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
        'config-map': { type: 'string', default: configMapRef.name },
        'load-balancer-class': { type: 'string' },
        interface: { type: 'string' },
        'router-id': { type: 'string' },
        'lease-duration': { type: 'string', default: `${defaultSpeakerLeaseTiming.durationMs}ms` },
        'lease-renew': { type: 'string', default: `${defaultSpeakerLeaseTiming.renewIntervalMs}ms` },
        'lease-margin': { type: 'string', default: `${defaultSpeakerLeaseTiming.marginMs}ms` },
        refresh: { type: 'string', default: `${defaultAnnouncementTiming.refreshIntervalMs / 1000}s` },
        'metrics-address': { type: 'string', default: '0.0.0.0:7473' },
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
    timing = { durationMs: parseDurationMs(values['lease-duration']), renewIntervalMs: parseDurationMs(values['lease-renew']), marginMs: parseDurationMs(values['lease-margin']) };
    refreshMs = values.refresh === '0' ? 0 : parseDurationMs(values.refresh);
    if (timing.marginMs >= timing.durationMs) problems.push('--lease-margin must be shorter than --lease-duration');
    if (timing.renewIntervalMs * 2 > timing.durationMs - timing.marginMs) problems.push('--lease-renew must leave room for two renewals within --lease-duration minus --lease-margin');
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (problems.length > 0 || node === undefined || !isLogLevel(level)) {
    for (const problem of problems) console.error(`vipcast speaker: ${problem}`);
    return 2;
  }
  const log = createLogger(level, { component: 'speaker', node });
  let kc;
  try {
    kc = loadKubeConfig({ kubeconfig: values.kubeconfig });
  } catch (error) {
    log.error('cannot load a kubeconfig', { error: String(error) });
    return 1;
  }

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vipcast_speaker_' });
  const announced = new Gauge({ name: 'vipcast_speaker_announced_vips', help: 'VIPs this node announces now', labelNames: ['mode'], registers: [registry] });
  const elections = new Gauge({ name: 'vipcast_speaker_layer2_elections_won', help: 'Layer-2 VIP claims this node confirmed since start', registers: [registry] });
  const leaseFailures = new Gauge({ name: 'vipcast_speaker_lease_write_failures', help: 'Speaker Lease writes that failed since start', registers: [registry] });
  const answeredGauge = new Gauge({
    name: 'vipcast_speaker_layer2_requests_answered',
    help: 'ARP requests and Neighbor Solicitations answered since start',
    registers: [registry],
    collect: () => collect(),
  });
  const apiWrites = new Counter({ name: 'vipcast_speaker_api_writes_total', help: 'API writes made by this process', labelNames: ['kind'], registers: [registry] });

  const rest = createKubeRest(kc, { fieldManager: speakerFieldManager });
  // Lease writes get a short timeout: a renewal slower than the lease cannot help.
  const leaseRest = createKubeRest(kc, { fieldManager: speakerFieldManager, timeoutMs: Math.max(250, timing.durationMs - timing.marginMs - timing.renewIntervalMs), maxSockets: 2 });
  const events = new EventRecorder(rest, {
    controller: 'vipcast.io/speaker',
    instance: node,
    onWrite: () => apiWrites.inc({ kind: 'event' }),
    onError: (error, intent) => log.warn('cannot write an Event', { reason: intent.reason, error: String(error) }),
  });
  const clock = (): number => performance.now();
  const lease = new SpeakerLease(leaseRest, values.namespace, node, timing, clock);
  const defaultInterface = values.interface;
  const interfacesFor = (pool: Pool, vip: string): string[] => {
    if (pool.interfaces.length > 0) return pool.interfaces.filter(linkIsUp);
    const name = defaultInterface ?? routeInterface(readKernelRoutes(), vip);
    return name === undefined ? [] : [name];
  };
  const linkUp = (pool: Pool): boolean => {
    if (pool.interfaces.length > 0) return pool.interfaces.some(linkIsUp);
    return defaultInterface === undefined || linkIsUp(defaultInterface);
  };
  const layer2Timing = { ...defaultAnnouncementTiming, refreshIntervalMs: refreshMs };
  const bgpUp = new Gauge({ name: 'vipcast_bgp_session_up', help: '1 while the BGP session to the peer is Established', labelNames: ['peer'], registers: [registry] });
  const bgp = new SpeakerBgp({
    node,
    nodeLabels: () => runtime.nodeLabels(node),
    routerId: values['router-id'],
    onEvent: (peer, event) => {
      if (event.type === 'state') {
        bgpUp.set({ peer }, event.state === 'Established' ? 1 : 0);
        log.info('bgp session', { peer, state: event.state });
      } else if (event.type === 'notification-sent' || event.type === 'notification-received' || event.type === 'error' || event.type === 'bfd') {
        log.warn('bgp', { peer, ...event });
      }
    },
  });
  const runtime: SpeakerRuntime = new SpeakerRuntime({
    kc,
    rest,
    node,
    namespace: values.namespace,
    configMapName: values['config-map'],
    loadBalancerClass: values['load-balancer-class'],
    lease,
    clock,
    log,
    events,
    interfacesFor,
    linkUp,
    openLink: (name) => {
      const speaker = Layer2Speaker.open(name, { timing: layer2Timing, onError: (message) => log.warn('layer-2 speaker', { interface: name, message }) });
      return { announce: (vip) => speaker.announce(vip), release: (vip) => speaker.release(vip), answered: () => speaker.counters().responder.answered, close: () => speaker.close() };
    },
    bgp,
    onChange: () => update(),
  });
  function update(): void {
    const counts = runtime.counts();
    announced.set({ mode: 'layer2' }, counts.layer2);
    announced.set({ mode: 'bgp' }, counts.bgp);
  }
  const collect = (): void => {
    elections.set(runtime.ownership.elections);
    leaseFailures.set(lease.failures);
    answeredGauge.set(runtime.answered());
    update();
  };

  let http;
  try {
    http = await startHttpServer({
      address: values['metrics-address'],
      registry,
      healthy: () => true,
      ready: () => runtime.synced,
      state: () => {
        collect();
        return { node, synced: runtime.synced, vips: runtime.describe() };
      },
    });
  } catch (error) {
    log.error('cannot listen on the metrics address', { address: values['metrics-address'], error: String(error) });
    return 1;
  }
  const collectTimer = setInterval(collect, 5000);
  log.info('speaker started', { metricsPort: http.port, namespace: values.namespace, ...timing, refreshMs });

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
  clearInterval(collectTimer);
  await runtime.stop();
  const closed = new Promise<void>((resolve) => http.server.close(() => resolve()));
  http.server.closeAllConnections();
  await closed;
  log.info('speaker stopped', {});
  return signal === 'error' ? 1 : 0;
}
