// `vipcast control-plane`: the static Pod's program on each kubeadm control-plane node. It
// holds the control-plane VIP while this node leads Lease kube-system/vipcast-control-plane,
// campaigning only while the local API server is ready (ADR 0012).
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { parseFlagDuration } from '../config/duration.js';
import { waitForStop } from './stop.js';
import { parseTarget } from '../control-plane/api-client.js';
import { ControlPlaneAgent } from '../control-plane/agent.js';
import { bgpAnnouncer, bothAnnouncers, layer2Announcer, onLinkSubnet } from '../control-plane/announcers.js';
import { addressLifetimeSeconds, defaultControlPlaneTimings, validateControlPlaneTimings } from '../control-plane/timings.js';
import { VipHolder, type VipAnnouncer } from '../control-plane/vip-holder.js';
import { interfaceFor } from './manifest.js';
import { interfaceIndex, listAddresses } from '../net/netlink.js';
import { createControlPlaneMetrics } from '../control-plane/metrics.js';
import { defaultHealthLimits, evaluateHealth, EventLoopLag } from '../observability/health.js';
import { closeHttpServer, startHttpServer } from '../observability/http-server.js';
import { createLogger, isLogLevel } from '../log.js';
import { parseVip } from '../../speakers/layer2/vip.js';

const help = `usage: vipcast control-plane --vip VIP [options]

Holds the control-plane VIP on this node while it leads Lease vipcast-control-plane in
kube-system. Talks only to the local API server, and campaigns only while it answers /readyz.
The leader adds the VIP to the interface (IPv4 /32, IPv6 /128 without DAD) and announces it;
it removes it the moment it stops leading or its API server is not ready. SIGTERM removes the
VIP and releases the Lease at once. Needs CAP_NET_ADMIN and CAP_NET_RAW.

options:
  --vip VIP                    the control-plane VIP (required)
  --interface IF               where the VIP goes (default: the interface of the route to the VIP)
  --port N                     the local API server's port (6443)
  --server URL                 the local API server (https://127.0.0.1:PORT); never the VIP
  --tls-server-name NAME       name its certificate must carry (kubernetes)
  --kubeconfig PATH            credentials (/etc/kubernetes/admin.conf); its server is ignored
  --bootstrap-kubeconfig PATH  used only while --kubeconfig is refused during kubeadm init
                               (/etc/kubernetes/super-admin.conf; "" turns this off)
  --identity NAME              this node's name in the Lease (NODE_NAME, else the host name)
  --lease-namespace NS         (kube-system)      --lease-name NAME  (vipcast-control-plane)
  --lease-duration DURATION    (${defaultControlPlaneTimings.leaseDurationMs / 1000}s)  --renew-deadline DURATION (${defaultControlPlaneTimings.renewDeadlineMs / 1000}s)  --retry-period DURATION (${defaultControlPlaneTimings.retryPeriodMs}ms)
  --health-interval DURATION   time between /readyz probes (200ms)
  --health-failures N          failed probes that make the API server unhealthy (2)
  --request-timeout DURATION   timeout of each API request (1s)
  --mode layer2|bgp            how to announce (layer2)
  --bgp-peer ADDR --bgp-peer-asn N --bgp-my-asn N [--bgp-router-id ID] [--bgp-source ADDR]
  [--bgp-next-hop ADDR]        BGP mode: one session; the next hop defaults to --bgp-source
  --on-cordon hand-over|stay   when this node is cordoned (kubectl cordon/drain): give the VIP to
                               another control plane while all is well, or keep it (hand-over)
  --metrics-address HOST:PORT  /metrics, /healthz, /readyz (0.0.0.0:7474; /readyz: the local API server is ready)
  --log-level LEVEL            debug, info, warn or error (info)
Exit status: 0 after SIGTERM/SIGINT, 1 when the VIP cannot be managed, 2 on usage errors.`;

class UsageError extends Error {}

/** Runs the agent until SIGTERM or SIGINT. */
export async function controlPlaneCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        help: { type: 'boolean', short: 'h' },
        vip: { type: 'string' },
        interface: { type: 'string' },
        port: { type: 'string', default: '6443' },
        server: { type: 'string' },
        'tls-server-name': { type: 'string', default: 'kubernetes' },
        kubeconfig: { type: 'string', default: '/etc/kubernetes/admin.conf' },
        'bootstrap-kubeconfig': { type: 'string', default: '/etc/kubernetes/super-admin.conf' },
        identity: { type: 'string' },
        'lease-namespace': { type: 'string', default: 'kube-system' },
        'lease-name': { type: 'string', default: 'vipcast-control-plane' },
        'lease-duration': { type: 'string', default: `${defaultControlPlaneTimings.leaseDurationMs / 1000}s` },
        'renew-deadline': { type: 'string', default: `${defaultControlPlaneTimings.renewDeadlineMs / 1000}s` },
        'retry-period': { type: 'string', default: `${defaultControlPlaneTimings.retryPeriodMs}ms` },
        'health-interval': { type: 'string', default: '200ms' },
        'health-failures': { type: 'string', default: '2' },
        'request-timeout': { type: 'string', default: '1s' },
        mode: { type: 'string', default: 'layer2' },
        'bgp-peer': { type: 'string' },
        'bgp-peer-asn': { type: 'string' },
        'bgp-my-asn': { type: 'string' },
        'bgp-router-id': { type: 'string' },
        'bgp-source': { type: 'string' },
        'bgp-next-hop': { type: 'string' },
        'on-cordon': { type: 'string', default: 'hand-over' },
        'metrics-address': { type: 'string', default: '0.0.0.0:7474' },
        'log-level': { type: 'string', default: 'info' },
      },
    }));
  } catch (error) {
    console.error(`vipcast control-plane: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  if (values.help) {
    console.log(help);
    return 0;
  }
  let settings;
  try {
    settings = settle(values);
  } catch (error) {
    console.error(`vipcast control-plane: ${(error as Error).message}`);
    return 2;
  }
  const log = createLogger(settings.level, { component: 'control-plane', identity: settings.identity });
  let holder: VipHolder;
  try {
    const interfaceName = values.interface ?? interfaceFor(settings.vip);
    const onError = (message: string): void => log.warn('announcer', { message });
    let announcer: VipAnnouncer;
    if (settings.bgp === undefined) {
      announcer = layer2Announcer(interfaceName, undefined, onError);
    } else {
      announcer = bgpAnnouncer(settings.bgp, (event) => log.info('bgp', { event: event.type, ...('state' in event ? { state: event.state } : {}) }));
      const subnet = onLinkSubnet(settings.vip, listAddresses(interfaceIndex(interfaceName)));
      if (subnet !== undefined) {
        log.warn('the VIP is inside a subnet of its interface: hosts there reach it by ARP/NDP, not through the router, so each takeover is announced on layer 2 too; a VIP outside the nodes\' subnets is routed only', { vip: settings.vip, interface: interfaceName, subnet });
        announcer = bothAnnouncers(announcer, layer2Announcer(interfaceName, undefined, onError));
      }
    }
    holder = new VipHolder(interfaceName, settings.vip, addressLifetimeSeconds(settings.timings), announcer);
  } catch (error) {
    log.error('cannot manage the VIP', { vip: settings.vip, error: String(error) });
    return 1;
  }
  const agent = new ControlPlaneAgent({
    identity: settings.identity,
    local: settings.local,
    serverName: values['tls-server-name'],
    lease: { namespace: values['lease-namespace'], name: values['lease-name'] },
    timings: settings.timings,
    healthIntervalMs: settings.healthIntervalMs,
    healthFailures: settings.healthFailures,
    requestTimeoutMs: settings.requestTimeoutMs,
    kubeconfig: values.kubeconfig,
    bootstrapKubeconfig: values['bootstrap-kubeconfig'] === '' ? undefined : values['bootstrap-kubeconfig'],
    holder,
    handOverWhenCordoned: settings.handOverWhenCordoned,
    log,
  });
  const lag = new EventLoopLag({ thresholdMs: defaultHealthLimits.lagThresholdMs, sustainedMs: defaultHealthLimits.lagSustainedMs });
  lag.start(() => performance.now(), defaultHealthLimits.lagIntervalMs);
  let http;
  try {
    http = await startHttpServer({
      address: values['metrics-address'],
      registry: createControlPlaneMetrics(() => agent.state()),
      health: () => evaluateHealth({ eventLoop: lag.check }, performance.now()),
      ready: () => agent.state().apiServerReady,
      state: () => {
        const now = agent.state();
        return { identity: settings.identity, vip: settings.vip, leading: now.leading, apiServerReady: now.apiServerReady, cordoned: now.cordoned };
      },
    });
  } catch (error) {
    log.error('cannot listen on the metrics address', { address: values['metrics-address'], error: String(error) });
    lag.stop();
    holder.close();
    return 1;
  }
  const signal = waitForStop().reason;
  log.info('control-plane agent started', {
    vip: settings.vip,
    interface: holder.interfaceName,
    server: `${settings.local.host}:${settings.local.port}`,
    mode: settings.bgp === undefined ? 'layer2' : 'bgp',
    metricsPort: http.port,
    ...settings.timings,
  });
  agent.start();
  const received = await signal;
  const started = performance.now();
  await agent.stop();
  lag.stop();
  await closeHttpServer(http.server);
  log.info('stopped', { signal: received, ms: Math.round(performance.now() - started) });
  return 0;
}

type Values = Record<string, string | boolean | undefined>;

function settle(values: Values) {
  const text = (name: string): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const vipText = text('vip');
  if (vipText === undefined) throw new UsageError('--vip is required');
  const vip = parseVip(vipText).address;
  const port = Number(text('port'));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port must be a TCP port, not ${text('port')}`);
  const local = parseTarget(text('server') ?? `https://127.0.0.1:${port}`);
  const timings = validateControlPlaneTimings({
    leaseDurationMs: parseFlagDuration(text('lease-duration') ?? ''),
    renewDeadlineMs: parseFlagDuration(text('renew-deadline') ?? ''),
    retryPeriodMs: parseFlagDuration(text('retry-period') ?? ''),
  });
  const healthIntervalMs = parseFlagDuration(text('health-interval') ?? '');
  const requestTimeoutMs = parseFlagDuration(text('request-timeout') ?? '');
  if (requestTimeoutMs >= timings.renewDeadlineMs) throw new UsageError('--request-timeout must be shorter than --renew-deadline');
  const healthFailures = Number(text('health-failures'));
  if (!Number.isInteger(healthFailures) || healthFailures < 1) throw new UsageError('--health-failures must be a whole number ≥ 1');
  const level = text('log-level') ?? 'info';
  if (!isLogLevel(level)) throw new UsageError(`unknown log level "${level}"`);
  const identity = text('identity') ?? process.env['NODE_NAME'] ?? hostname();
  const mode = text('mode');
  if (mode !== 'layer2' && mode !== 'bgp') throw new UsageError('--mode must be layer2 or bgp');
  const onCordon = text('on-cordon');
  if (onCordon !== 'hand-over' && onCordon !== 'stay') throw new UsageError('--on-cordon must be hand-over or stay');
  return { vip, local, timings, healthIntervalMs, requestTimeoutMs, healthFailures, level, identity, handOverWhenCordoned: onCordon === 'hand-over', bgp: mode === 'bgp' ? bgpSettings(text) : undefined };
}

function bgpSettings(text: (name: string) => string | undefined) {
  const asn = (name: string): number => {
    const n = Number(text(name));
    if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new UsageError(`--${name} must be an AS number (1..4294967295)`);
    return n;
  };
  const peer = text('bgp-peer');
  if (peer === undefined || isIP(peer) === 0) throw new UsageError('--mode bgp needs --bgp-peer ADDR');
  const source = text('bgp-source');
  const nextHop = text('bgp-next-hop') ?? source;
  if (nextHop === undefined || isIP(nextHop) === 0) throw new UsageError('--mode bgp needs --bgp-next-hop or --bgp-source');
  const routerId = text('bgp-router-id') ?? (source !== undefined && isIP(source) === 4 ? source : undefined);
  if (routerId === undefined || isIP(routerId) !== 4) throw new UsageError('--mode bgp needs an IPv4 --bgp-router-id (or an IPv4 --bgp-source)');
  return {
    session: { peerAddress: peer, peerAsn: asn('bgp-peer-asn'), myAsn: asn('bgp-my-asn'), routerId, ...(source === undefined ? {} : { localAddress: source }) },
    nextHop,
  };
}
