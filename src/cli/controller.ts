// `vipcast controller`: the Deployment's program. Two replicas campaign for a Lease; the
// leader fills its caches, rebuilds allocations from Service status and reconciles; the
// standby waits. Metrics, /healthz and /readyz are served on the metrics port by both.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { parseFlagDuration } from '../config/duration.js';
import { validateTimings, type ElectionTimings } from '../k8s/lease-election.js';
import { configMapRef } from '../config/source.js';
import { configMapHelp, configMapOptions, locationFields, readConfigMapFlags, type ConfigLocation } from './config-map-flags.js';
import { isSignal, waitForStop } from './stop.js';
import { createControllerMetrics } from '../controller/metrics.js';
import { EventLoopLag, defaultHealthLimits as limits, evaluateHealth, informersCheck, stuckWorkCheck } from '../observability/health.js';
import { closeHttpServer, startHttpServer } from '../observability/http-server.js';
import { Reconciler } from '../controller/reconciler.js';
import { EventRecorder, reportDroppedEvents } from '../k8s/events.js';
import { loadApiAccess, type ApiAccess } from '../k8s/kubeconfig.js';
import { LeaderElector } from '../k8s/leader-election.js';
import { restLeaseClient, type LeaseClient } from '../k8s/lease-client.js';
import { createKubeRest } from '../k8s/rest.js';
import { ServiceStatusWriter } from '../k8s/service-status.js';
import { createLogger, isLogLevel, type Logger, type LogLevel } from '../log.js';

/** The fieldManager of every write the controller makes. */
export const controllerFieldManager = 'vipcast-controller';

const help = `usage: vipcast controller [options]

Allocates addresses from the address-pool ConfigMap to Services of type LoadBalancer and
writes them to status.loadBalancer.ingress. Run two replicas: one leads through a Lease.

options:
  --kubeconfig PATH            kubeconfig to use (default: the in-cluster ServiceAccount)
  --namespace NS               namespace of the Lease, and of vipcast's ConfigMap (vipcast-system)
${configMapHelp}
  --load-balancer-class CLASS  also serve Services of this spec.loadBalancerClass
                               (default: none; only Services without a class are served)
  --metrics-address HOST:PORT  /metrics, /healthz and /readyz (0.0.0.0:7472)
  --lease-name NAME            the leader-election Lease (vipcast-controller)
  --lease-duration DURATION    how long a lease holds without renewal (15s)
  --renew-deadline DURATION    the leader gives up if it cannot renew for this long (10s)
  --retry-period DURATION      time between acquire/renew attempts (2s)
  --identity NAME              this replica's name in the Lease (POD_NAME, else host-pid)
  --log-level LEVEL            debug, info, warn or error (info)
Durations: 500ms, 15s, 1m30s, or plain seconds.`;

/** What the command line asks for, checked. */
interface ControllerOptions {
  readonly level: LogLevel;
  readonly kubeconfig: string | undefined;
  readonly namespace: string;
  readonly config: ConfigLocation;
  readonly loadBalancerClass: string | undefined;
  readonly metricsAddress: string;
  readonly leaseName: string;
  readonly identity: string;
  readonly timings: ElectionTimings;
}

/** Runs the controller until SIGTERM/SIGINT (exit 0) or a lost Lease (exit 1); 2 on usage errors. */
export async function controllerCommand(args: string[]): Promise<number> {
  const options = readControllerOptions(args);
  if (typeof options === 'number') return options;
  const log = createLogger(options.level, { component: 'controller', identity: options.identity });
  let access;
  try {
    access = await loadApiAccess({ kubeconfig: options.kubeconfig });
  } catch (error) {
    log.error('cannot load a kubeconfig', { error });
    return 1;
  }
  return runController(options, access, log);
}

/** Parses and checks the flags; an exit code (0 for --help, 2 for a usage error) when there is nothing to run. */
function readControllerOptions(args: string[]): ControllerOptions | number {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        help: { type: 'boolean', short: 'h' },
        kubeconfig: { type: 'string' },
        namespace: { type: 'string', default: configMapRef.namespace },
        ...configMapOptions,
        'load-balancer-class': { type: 'string' },
        'metrics-address': { type: 'string', default: '0.0.0.0:7472' },
        'lease-name': { type: 'string', default: 'vipcast-controller' },
        'lease-duration': { type: 'string', default: '15s' },
        'renew-deadline': { type: 'string', default: '10s' },
        'retry-period': { type: 'string', default: '2s' },
        identity: { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
      },
    }));
  } catch (error) {
    console.error(`vipcast controller: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  if (values.help) {
    console.log(help);
    return 0;
  }
  const level = values['log-level'];
  if (!isLogLevel(level)) {
    console.error(`vipcast controller: unknown log level "${level}"`);
    return 2;
  }
  const configFlags = readConfigMapFlags(values, values.namespace);
  if (!configFlags.ok) {
    console.error(`vipcast controller: ${configFlags.message}`);
    return 2;
  }
  let timings;
  try {
    timings = validateTimings({
      leaseDurationMs: parseFlagDuration(values['lease-duration']),
      renewDeadlineMs: parseFlagDuration(values['renew-deadline']),
      retryPeriodMs: parseFlagDuration(values['retry-period']),
    });
  } catch (error) {
    console.error(`vipcast controller: ${(error as Error).message}`);
    return 2;
  }
  return {
    level,
    kubeconfig: values.kubeconfig,
    namespace: values.namespace,
    config: configFlags.location,
    loadBalancerClass: values['load-balancer-class'],
    metricsAddress: values['metrics-address'],
    leaseName: values['lease-name'],
    identity: values.identity ?? process.env['POD_NAME'] ?? `${hostname()}-${process.pid}`,
    timings,
  };
}

/** Campaigns for the Lease, reconciles while leading, serves metrics and health, until stopped. */
async function runController(options: ControllerOptions, access: ApiAccess, log: Logger): Promise<number> {
  const { identity, timings, config } = options;
  const rest = createKubeRest(access, { fieldManager: controllerFieldManager, timeoutMs: Math.max(1000, timings.renewDeadlineMs) });
  let reconciler: Reconciler | undefined;
  const metrics = createControllerMetrics(() => reconciler?.poolUsage() ?? new Map<string, number>());
  const counted = (kind: string) => () => metrics.apiWrites.inc({ kind });
  const events = new EventRecorder(rest, {
    controller: 'vipcast.io/controller',
    instance: identity,
    onWrite: counted('event'),
    onError: (error, intent) => log.warn('cannot write an Event', { reason: intent.reason, error }),
    onDropped: reportDroppedEvents((message, fields) => log.warn(message, fields), () => metrics.eventsDropped.inc()),
  });
  const status = new ServiceStatusWriter(rest, (what) => metrics.apiWrites.inc({ kind: what }));
  const countedLease = countWrites(restLeaseClient(rest, options.namespace, options.leaseName), counted('lease'));

  const stop = waitForStop();
  let shuttingDown = false;
  const elector = new LeaderElector(countedLease, {
    identity,
    ...timings,
    onNewLeader: (holder) => log.info('leader observed', { leader: holder }),
    onError: (error) => log.warn('lease request failed', { error }),
    onStartedLeading: () => {
      metrics.leader.set(1);
      log.info('became leader; starting the reconciler');
      reconciler = new Reconciler({
        rest,
        config,
        loadBalancerClass: options.loadBalancerClass,
        events,
        status,
        metrics,
        log,
        mayWrite: () => elector.holdsLease(),
      });
      reconciler.start().catch((error: unknown) => {
        log.error('reconciler failed to start', { error });
        stop.stop('the reconciler failed to start');
      });
    },
    onStoppedLeading: (why) => {
      metrics.leader.set(0);
      reconciler?.stop();
      if (shuttingDown) return;
      // A deposed leader stops writing at once and exits; its Pod restarts as a standby.
      log.error('lost leadership; exiting', { why });
      stop.stop('lost leadership');
    },
  });

  // Liveness: the leader's informers and reconciles keep moving and the event loop keeps up.
  // Errors alone fail it only while the Lease renews, i.e. while the API server answers.
  const clock = (): number => performance.now();
  const lag = new EventLoopLag({ thresholdMs: limits.lagThresholdMs, sustainedMs: limits.lagSustainedMs });
  lag.start(clock, limits.lagIntervalMs);
  const checks = {
    informers: informersCheck(() => reconciler?.informersHealth() ?? [], { restartOverdueMs: limits.restartOverdueMs, failingMs: limits.informerFailingMs }, () => elector.holdsLease()),
    reconciler: stuckWorkCheck('reconcile', () => reconciler?.oldestReconcileSince(), limits.reconcileStuckMs),
    eventLoop: lag.check,
  };
  let http;
  try {
    http = await startHttpServer({
      address: options.metricsAddress,
      registry: metrics.registry,
      health: () => evaluateHealth(checks, clock()),
      ready: () => !elector.isLeader || (reconciler?.synced ?? false),
      state: () => ({ leader: elector.isLeader, synced: reconciler?.synced ?? false }),
    });
  } catch (error) {
    log.error('cannot listen on the metrics address', { address: options.metricsAddress, error });
    lag.stop();
    stop.stop('cannot listen');
    return 1;
  }
  log.info('controller started', { metricsPort: http.port, namespace: options.namespace, configSource: config.source, ...locationFields(config), loadBalancerClass: options.loadBalancerClass ?? null, ...timings });
  elector.start();

  const reason = await stop.reason;
  shuttingDown = true;
  if (isSignal(reason)) log.info('shutting down', { signal: reason });
  const code = isSignal(reason) ? 0 : 1;
  reconciler?.stop();
  events.close();
  lag.stop();
  await elector.stop();
  await closeHttpServer(http.server);
  log.info('controller stopped', { code });
  return code;
}

/** A Lease client whose every write (create, replace) is counted, whatever its outcome. */
function countWrites(client: LeaseClient, count: () => void): LeaseClient {
  return {
    get: () => client.get(),
    create: (spec) => client.create(spec).finally(count),
    replace: (resourceVersion, spec) => client.replace(resourceVersion, spec).finally(count),
  };
}
