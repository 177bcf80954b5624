// The static Pod's shape: host network, only NET_ADMIN and NET_RAW, only the kubeconfig files.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { controlPlaneManifest, defaultImage, METRICS_PORT } from '../../../src/control-plane/manifest.js';

const base = { vip: '192.0.2.100', interfaceName: 'eth0', port: 6443, image: 'example/vipcast:1', kubeconfig: '/etc/kubernetes/admin.conf', extraArgs: [] };

describe('controlPlaneManifest', () => {
  it('runs the agent on the host network with only NET_ADMIN and NET_RAW', () => {
    const pod = controlPlaneManifest({ ...base, bootstrapKubeconfig: '/etc/kubernetes/super-admin.conf' }) as {
      spec: { hostNetwork: boolean; containers: { args: string[]; securityContext: unknown }[]; volumes: unknown[] };
    };
    expect(pod.spec.hostNetwork).toBe(true);
    // As root: the image's non-root user would get no effective capabilities, and could not read admin.conf.
    expect(pod.spec.containers[0]?.securityContext).toEqual({
      runAsUser: 0,
      runAsNonRoot: false,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] },
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
    expect(pod.spec.containers[0]?.args.slice(0, 4)).toEqual(['control-plane', '--vip=192.0.2.100', '--interface=eth0', '--port=6443']);
    expect(pod.spec.volumes).toEqual([
      { name: 'kubeconfig', hostPath: { path: '/etc/kubernetes/admin.conf', type: 'File' } },
      { name: 'bootstrap-kubeconfig', hostPath: { path: '/etc/kubernetes/super-admin.conf', type: 'FileOrCreate' } },
    ]);
  });

  it('leaves super-admin.conf out when asked, and tells the agent so', () => {
    const pod = controlPlaneManifest({ ...base, bootstrapKubeconfig: undefined }) as { spec: { containers: { args: string[] }[]; volumes: unknown[] } };
    expect(pod.spec.volumes).toHaveLength(1);
    expect(pod.spec.containers[0]?.args).toContain('--bootstrap-kubeconfig=');
  });

  it('publishes the metrics port by name and for annotation-based scrapes', () => {
    const pod = controlPlaneManifest({ ...base, bootstrapKubeconfig: undefined }) as { metadata: { annotations: Record<string, string> }; spec: { containers: { ports: unknown[] }[] } };
    expect(pod.spec.containers[0]?.ports).toEqual([{ name: 'monitoring', containerPort: METRICS_PORT, protocol: 'TCP' }]);
    expect(pod.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '7474' });
  });

  it('is what examples/control-plane-static-pod.yaml shows (the command its header names)', () => {
    const example = parse(readFileSync('examples/control-plane-static-pod.yaml', 'utf8')) as unknown;
    const printed = controlPlaneManifest({ vip: '192.168.1.250', interfaceName: 'eth0', port: 6443, image: defaultImage, kubeconfig: '/etc/kubernetes/admin.conf', bootstrapKubeconfig: '/etc/kubernetes/super-admin.conf', extraArgs: ['--mode=layer2'] });
    expect(example).toEqual(printed);
  });
});
