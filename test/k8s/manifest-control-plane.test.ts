// `vipcast manifest control-plane` produces a static Pod the real API server accepts: a
// server-side dry run with strict field validation, for layer-2 and BGP mode. The command runs
// as a compiled agent (dist/), as a user would run it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startApiServer, type TestApiServer } from '../../lab/apiserver.js';
import { kubeRequest } from '../../lab/kube-client.js';

const run = promisify(execFile);
let server: TestApiServer | undefined;
let startError: unknown;

function api(): TestApiServer {
  if (server === undefined) throw startError instanceof Error ? startError : new Error('the apiserver did not start');
  return server;
}

async function manifest(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', ['dist/test/e2e/agents/manifest.js', 'control-plane', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Creates the Pod in kube-system as a server-side dry run with strict field validation. */
async function dryRun(pod: unknown): Promise<{ status: number; text: string }> {
  const response = await kubeRequest(api().admin, '/api/v1/namespaces/kube-system/pods?dryRun=All&fieldValidation=Strict', { method: 'POST', body: pod });
  return { status: response.status, text: response.text };
}

beforeAll(async () => {
  try {
    server = await startApiServer();
  } catch (error) {
    startError = error;
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

describe('vipcast manifest control-plane', () => {
  it('prints a static Pod the API server accepts in a strict dry run', async () => {
    const out = await manifest('--vip', '192.0.2.10', '--interface', 'eth0');
    expect(out.code).toBe(0);
    const pod = parse(out.stdout) as {
      spec: {
        hostNetwork: boolean;
        containers: { args: string[]; securityContext: { capabilities: { add: string[]; drop: string[] } }; volumeMounts: { mountPath: string }[] }[];
        volumes: { hostPath: { path: string; type: string } }[];
      };
    };
    const verdict = await dryRun(pod);
    expect(verdict.text).not.toContain('"kind":"Status"');
    expect(verdict.status).toBe(201);
    expect(pod.spec.hostNetwork).toBe(true);
    const container = pod.spec.containers[0];
    expect(container?.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] });
    expect(container?.args).toEqual(expect.arrayContaining(['control-plane', '--vip=192.0.2.10', '--interface=eth0', '--port=6443']));
    // Only the two kubeconfig files are mounted, never /etc/kubernetes with its private keys.
    expect(pod.spec.volumes.map((v) => v.hostPath)).toEqual([
      { path: '/etc/kubernetes/admin.conf', type: 'File' },
      { path: '/etc/kubernetes/super-admin.conf', type: 'FileOrCreate' },
    ]);
  });

  it('accepts BGP mode and --no-super-admin, and the dry run still passes', async () => {
    const out = await manifest('--vip', '2001:db8::10', '--interface', 'bond0', '--port', '8443', '--mode', 'bgp', '--bgp-peer', '192.0.2.1', '--bgp-peer-asn', '64512', '--bgp-my-asn', '64513', '--bgp-source', '192.0.2.11', '--no-super-admin', '--on-cordon', 'stay');
    expect(out.code).toBe(0);
    const pod = parse(out.stdout) as { spec: { containers: { args: string[] }[]; volumes: unknown[] } };
    expect(pod.spec.containers[0]?.args).toEqual(expect.arrayContaining(['--vip=2001:db8::10', '--mode=bgp', '--bgp-peer=192.0.2.1', '--bootstrap-kubeconfig=', '--on-cordon=stay']));
    expect(pod.spec.volumes).toHaveLength(1);
    expect((await dryRun(pod)).status).toBe(201);
  });

  it('the strict dry run is a real check: a misspelt field is refused', async () => {
    const out = await manifest('--vip', '192.0.2.10', '--interface', 'eth0');
    const pod = parse(out.stdout) as { spec: Record<string, unknown> };
    pod.spec['hostNetwrok'] = true;
    const verdict = await dryRun(pod);
    expect(verdict.status).toBe(400);
    expect(verdict.text).toContain('hostNetwrok');
  });

  it('refuses usage errors with exit 2 and names them', async () => {
    const missing = await manifest('--interface', 'eth0');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--vip is required');
    const bad = await manifest('--vip', '224.0.0.1', '--interface', 'eth0', '--mode', 'ospf');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('multicast');
    expect(bad.stderr).toContain('--mode must be layer2 or bgp');
    const cordon = await manifest('--vip', '192.0.2.10', '--interface', 'eth0', '--on-cordon', 'leave');
    expect(cordon.code).toBe(2);
    expect(cordon.stderr).toContain('--on-cordon must be hand-over or stay');
  });

});
