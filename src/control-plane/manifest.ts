// The static Pod that runs `vipcast control-plane` on a kubeadm control-plane node, as a plain
// object (the CLI prints it as YAML). Pure: the interface is detected by the caller.
import { VERSION } from '../version.js';

/** What goes into the manifest. */
export interface ControlPlaneManifestOptions {
  /** The control-plane VIP (canonical text). */
  readonly vip: string;
  /** The interface the VIP goes on. */
  readonly interfaceName: string;
  /** The local API server's port. */
  readonly port: number;
  /** Container image. */
  readonly image: string;
  /** Host path of the kubeconfig to use (kubeadm's admin.conf). */
  readonly kubeconfig: string;
  /** Host path of kubeadm's super-admin.conf, used only during `kubeadm init`; undefined leaves it out. */
  readonly bootstrapKubeconfig: string | undefined;
  /** Extra `vipcast control-plane` flags (timings, BGP mode). */
  readonly extraArgs: readonly string[];
}

/** The image of this version. */
export const defaultImage = `ghcr.io/vipcast/vipcast:${VERSION}`;

/** Paths inside the container. */
const KUBECONFIG_IN_POD = '/etc/vipcast/kubeconfig';
const BOOTSTRAP_IN_POD = '/etc/vipcast/bootstrap-kubeconfig';

/**
 * Builds the Pod: host network, only NET_ADMIN and NET_RAW, read-only root filesystem, and the
 * kubeconfig files mounted read-only one by one (never the whole /etc/kubernetes, which holds
 * the cluster's private keys). super-admin.conf is mounted as FileOrCreate: on nodes that
 * joined (which have none) kubelet creates an empty file, which the agent treats as absent.
 */
/** The agent's metrics port (`vipcast control-plane --metrics-address` default 0.0.0.0:7474). */
export const METRICS_PORT = 7474;

export function controlPlaneManifest(options: ControlPlaneManifestOptions): Record<string, unknown> {
  const args = [
    'control-plane',
    `--vip=${options.vip}`,
    `--interface=${options.interfaceName}`,
    `--port=${options.port}`,
    `--kubeconfig=${KUBECONFIG_IN_POD}`,
    `--bootstrap-kubeconfig=${options.bootstrapKubeconfig === undefined ? '' : BOOTSTRAP_IN_POD}`,
    ...options.extraArgs,
  ];
  const mounts: Record<string, unknown>[] = [{ name: 'kubeconfig', mountPath: KUBECONFIG_IN_POD, readOnly: true }];
  const volumes: Record<string, unknown>[] = [{ name: 'kubeconfig', hostPath: { path: options.kubeconfig, type: 'File' } }];
  if (options.bootstrapKubeconfig !== undefined) {
    mounts.push({ name: 'bootstrap-kubeconfig', mountPath: BOOTSTRAP_IN_POD, readOnly: true });
    volumes.push({ name: 'bootstrap-kubeconfig', hostPath: { path: options.bootstrapKubeconfig, type: 'FileOrCreate' } });
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'vipcast-control-plane',
      namespace: 'kube-system',
      labels: { 'app.kubernetes.io/name': 'vipcast', 'app.kubernetes.io/component': 'control-plane' },
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(METRICS_PORT) },
    },
    spec: {
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      containers: [
        {
          name: 'vipcast',
          image: options.image,
          imagePullPolicy: 'IfNotPresent',
          args,
          // /metrics, /healthz, /readyz (the agent's --metrics-address default), on the host network.
          ports: [{ name: 'monitoring', containerPort: METRICS_PORT, protocol: 'TCP' }],
          env: [
            { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            // V8's heap held to half the memory limit, as in manifests/vipcast.yaml.
            { name: 'NODE_OPTIONS', value: '--max-old-space-size=128' },
          ],
          // UID 0, as the speaker: capabilities added for the image's non-root user never
          // reach its effective set (no AF_PACKET socket, no address on the interface), and
          // kubeadm's admin.conf and super-admin.conf are readable by root only.
          securityContext: {
            runAsUser: 0,
            runAsNonRoot: false,
            capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] },
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
          },
          // Measured 70-79 MiB (docs/footprint.md).
          resources: { requests: { cpu: '20m', memory: '96Mi' }, limits: { memory: '256Mi' } },
          volumeMounts: mounts,
        },
      ],
      volumes,
    },
  };
}
