// kube-vip as a counterpart in vipcast's labs (docs/adr/0014-kube-vip-comparison.md): where
// the binary scripts/build-kube-vip built is, the RBAC it needs, the environment each of its
// modes reads, and starting it inside a lab namespace the way a DaemonSet or static Pod would
// (host network of that namespace, configuration by environment variables).
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from './kube-binaries.js';
import { repositoryRoot } from './paths.js';
import type { Host, HostProcess, Topology } from './netns.js';

/** scripts/build-kube-vip, where the kube-vip release is pinned. */
export function buildKubeVipScript(root: string = repositoryRoot()): string {
  return join(root, 'scripts', 'build-kube-vip');
}

/** The kube-vip release pinned in scripts/build-kube-vip (`KUBE_VIP_VERSION=vX.Y.Z`). */
export function pinnedKubeVipVersion(script: string = buildKubeVipScript()): string {
  const match = /^KUBE_VIP_VERSION=(v\d+\.\d+\.\d+)\s*$/m.exec(readFileSync(script, 'utf8'));
  if (match?.[1] === undefined) throw new Error(`${script} has no KUBE_VIP_VERSION=vX.Y.Z line`);
  return match[1];
}

/**
 * The kube-vip executable: `VIPCAST_KUBE_VIP` when set, otherwise the versioned path
 * scripts/build-kube-vip writes. Throws an error naming the fix when it is missing.
 */
export function findKubeVip(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['VIPCAST_KUBE_VIP'];
  const version = pinnedKubeVipVersion();
  const path = configured !== undefined && configured !== '' ? configured : join(cacheRoot(env), 'kube-vip', version, 'kube-vip');
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`missing ${path}: run scripts/build-kube-vip to build kube-vip ${version} from the Go module proxy, or point VIPCAST_KUBE_VIP at an existing binary`);
  }
  return path;
}

/** kube-vip's leader-election timings, in whole seconds as its environment takes them. */
export interface KubeVipTimings {
  /** `vip_leaseduration`: how long a Lease is valid without renewal. */
  readonly leaseDuration: number;
  /** `vip_renewdeadline`: how long the leader keeps trying to renew before it steps down. */
  readonly renewDeadline: number;
  /** `vip_retryperiod`: the interval between acquire/renew attempts. */
  readonly retryPeriod: number;
}

/** kube-vip's own defaults (its `--leaseDuration`, `--leaseRenewDuration`, `--leaseRetry` flags). */
export const KUBE_VIP_DEFAULT_TIMINGS: KubeVipTimings = { leaseDuration: 15, renewDeadline: 10, retryPeriod: 2 };

/** The shorter timings kube-vip's documentation shows in its manifests: 5/3/1. */
export const KUBE_VIP_TUNED_TIMINGS: KubeVipTimings = { leaseDuration: 5, renewDeadline: 3, retryPeriod: 1 };

/** The ServiceAccount kube-vip runs as in the Service lab. */
export const KUBE_VIP_SERVICE_ACCOUNT = { namespace: 'kube-system', name: 'kube-vip' } as const;

/**
 * The cluster-scoped RBAC kube-vip's Service mode needs, as plain API objects: read and
 * update Services and their status, read Nodes, Endpoints and EndpointSlices, hold Leases,
 * record Events. The ServiceAccount itself is created by the caller (with its token).
 */
export function kubeVipRbacObjects(): { path: string; body: object }[] {
  const { namespace, name } = KUBE_VIP_SERVICE_ACCOUNT;
  const role = 'vipcast-bench:kube-vip';
  return [
    {
      path: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: role },
        rules: [
          { apiGroups: [''], resources: ['services', 'endpoints'], verbs: ['get', 'list', 'watch', 'update'] },
          { apiGroups: [''], resources: ['services/status'], verbs: ['update', 'patch'] },
          { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
          { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update'] },
          { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch', 'update'] },
          { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
        ],
      },
    },
    {
      path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: role },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
      },
    },
  ];
}

function timingEnv(timings: KubeVipTimings): Record<string, string> {
  return {
    vip_leaseduration: String(timings.leaseDuration),
    vip_renewdeadline: String(timings.renewDeadline),
    vip_retryperiod: String(timings.retryPeriod),
  };
}

/** Options of kube-vip's Service load-balancer mode on one node. */
export interface ServiceModeOptions {
  /** The node's name: the Lease holder identity and the EndpointSlice nodeName it matches. */
  readonly nodeName: string;
  /** kubeconfig of kube-vip's ServiceAccount (server reachable from the namespace). */
  readonly kubeconfig: string;
  /** Interface the VIPs are added to and announced on. */
  readonly interface: string;
  readonly timings: KubeVipTimings;
}

/**
 * Environment for `kube-vip manager` announcing Service VIPs by ARP with one Lease per
 * Service (`svc_election`), as its DaemonSet manifest sets it.
 */
export function serviceModeEnv(options: ServiceModeOptions): Record<string, string> {
  return {
    vip_arp: 'true',
    vip_interface: options.interface,
    vip_nodename: options.nodeName,
    svc_enable: 'true',
    svc_election: 'true',
    cp_enable: 'false',
    k8s_config_file: options.kubeconfig,
    ...timingEnv(options.timings),
  };
}

/** Options of kube-vip's control-plane mode on one node. */
export interface ControlPlaneModeOptions {
  readonly nodeName: string;
  /** The VIP of the API servers. */
  readonly address: string;
  readonly interface: string;
  /** kubeconfig (kubeadm's admin.conf); its server is replaced by `localApiServer`. */
  readonly kubeconfig: string;
  /** host:port of this node's own API server, as a static Pod reaches it. */
  readonly localApiServer: string;
  readonly timings: KubeVipTimings;
}

/**
 * Environment for `kube-vip manager` holding the control-plane VIP by ARP under Lease
 * leader election (Lease `plndr-cp-lock` in kube-system, kube-vip's default name), as the
 * static Pod manifest kube-vip generates for kubeadm sets it.
 */
export function controlPlaneModeEnv(options: ControlPlaneModeOptions): Record<string, string> {
  return {
    vip_arp: 'true',
    vip_interface: options.interface,
    vip_nodename: options.nodeName,
    address: options.address,
    port: '6443',
    vip_subnet: '32',
    cp_enable: 'true',
    svc_enable: 'false',
    vip_leaderelection: 'true',
    vip_leasename: 'plndr-cp-lock',
    k8s_config_file: options.kubeconfig,
    kubernetes_addr: options.localApiServer,
    ...timingEnv(options.timings),
  };
}

/**
 * Starts `kube-vip manager` in a lab host with exactly the given environment (plus PATH).
 * Its log (stderr) is merged into the process's lines. The process is kube-vip itself
 * (`ip netns exec` and `sh` both exec), so signals reach it directly.
 */
export function startKubeVip(topo: Topology, host: Host, binary: string, env: Record<string, string>): HostProcess {
  return topo.start(host, ['sh', '-c', 'exec "$0" manager 2>&1', binary], { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env });
}
