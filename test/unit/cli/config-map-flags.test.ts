// `--config-source` and `--config-map` of the controller, the speaker and `status`: which
// ConfigMap each reads and in which format, and a clear usage error (exit 2) for a bad value.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readConfigMapFlags } from '../../../src/cli/config-map-flags.js';
import { controllerCommand } from '../../../src/cli/controller.js';
import { speakerCommand } from '../../../src/cli/speaker.js';
import { statusCommand } from '../../../src/cli/status.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('which ConfigMap is read', () => {
  it("reads vipcast's own ConfigMap in --namespace by default, and kube-vip's in kube-system", () => {
    expect(readConfigMapFlags({}, 'vipcast-system')).toEqual({ ok: true, location: { source: 'vipcast', namespace: 'vipcast-system', name: 'vipcast-config' } });
    expect(readConfigMapFlags({ 'config-source': 'vipcast' }, 'lb')).toEqual({ ok: true, location: { source: 'vipcast', namespace: 'lb', name: 'vipcast-config' } });
    expect(readConfigMapFlags({ 'config-source': 'kube-vip' }, 'vipcast-system')).toEqual({ ok: true, location: { source: 'kube-vip', namespace: 'kube-system', name: 'kubevip' } });
  });

  it("takes NAME in the source's namespace, or NAMESPACE/NAME", () => {
    expect(readConfigMapFlags({ 'config-map': 'pools' }, 'lb')).toMatchObject({ location: { namespace: 'lb', name: 'pools' } });
    expect(readConfigMapFlags({ 'config-source': 'kube-vip', 'config-map': 'lb-ranges' }, 'vipcast-system')).toMatchObject({ location: { source: 'kube-vip', namespace: 'kube-system', name: 'lb-ranges' } });
    expect(readConfigMapFlags({ 'config-source': 'kube-vip', 'config-map': 'infra/kubevip' }, 'vipcast-system')).toMatchObject({ location: { namespace: 'infra', name: 'kubevip' } });
    expect(readConfigMapFlags({ 'config-map': 'infra/vipcast.pools' }, 'vipcast-system')).toMatchObject({ location: { source: 'vipcast', namespace: 'infra', name: 'vipcast.pools' } });
  });

  it("reads MetalLB's objects in metallb-system, or in --metallb-namespace", () => {
    expect(readConfigMapFlags({ 'config-source': 'metallb' }, 'vipcast-system')).toEqual({ ok: true, location: { source: 'metallb', namespace: 'metallb-system' } });
    expect(readConfigMapFlags({ 'config-source': 'metallb', 'metallb-namespace': 'lb' }, 'vipcast-system')).toEqual({ ok: true, location: { source: 'metallb', namespace: 'lb' } });
    expect(readConfigMapFlags({ 'config-source': 'metallb', 'metallb-namespace': 'Bad_NS' }, 'vipcast-system')).toMatchObject({ ok: false, message: expect.stringMatching(/^--metallb-namespace "Bad_NS" is not a namespace name/) as unknown });
  });

  it('refuses an unknown source and a name that is not NAME or NAMESPACE/NAME, naming the flag', () => {
    expect(readConfigMapFlags({ 'config-source': 'cilium' }, 'vipcast-system')).toEqual({ ok: false, message: '--config-source "cilium" is not one of vipcast, kube-vip, metallb' });
    for (const bad of ['a/b/c', '/kubevip', 'kube-system/', 'Kube-System/kubevip', 'kube_vip', '']) {
      const result = readConfigMapFlags({ 'config-map': bad }, 'vipcast-system');
      expect(result.ok, bad).toBe(false);
      if (!result.ok) expect(result.message, bad).toMatch(/^--config-map "/);
    }
  });
});

/** Runs a command, collecting what it prints. */
async function run(command: (args: string[]) => Promise<number>, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const code = await command(args);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const commands = [
  ['controller', controllerCommand, []],
  ['speaker', speakerCommand, ['--node', 'node-1']],
  ['status', statusCommand, []],
] as const;

describe.each(commands)('vipcast %s', (name, command, required) => {
  it('exits 2 naming --config-source when the source is unknown, before it contacts any API server', async () => {
    const { code, err } = await run(command, [...required, '--kubeconfig', '/nonexistent', '--config-source', 'cilium']);
    expect(code).toBe(2);
    expect(err).toContain(`vipcast ${name}: --config-source "cilium" is not one of vipcast, kube-vip, metallb`);
  });

  it('exits 2 naming the flag when --metallb-namespace and --config-map are mixed up', async () => {
    const mixed = await run(command, [...required, '--kubeconfig', '/nonexistent', '--config-source', 'metallb', '--config-map', 'pools']);
    expect(mixed.code).toBe(2);
    expect(mixed.err).toContain(`vipcast ${name}: --config-map names a ConfigMap; with --config-source metallb`);
    const stray = await run(command, [...required, '--kubeconfig', '/nonexistent', '--metallb-namespace', 'lb']);
    expect(stray.code).toBe(2);
    expect(stray.err).toContain(`vipcast ${name}: --metallb-namespace is only for --config-source metallb (this is vipcast)`);
  });

  it('exits 2 naming --config-map when it is not NAME or NAMESPACE/NAME', async () => {
    const { code, err } = await run(command, [...required, '--kubeconfig', '/nonexistent', '--config-map', 'a/b/c']);
    expect(code).toBe(2);
    expect(err).toContain(`vipcast ${name}: --config-map "a/b/c" is not NAME or NAMESPACE/NAME`);
  });

  it('describes both flags in --help', async () => {
    const { code, out } = await run(command, ['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/--config-source SOURCE .*vipcast[\s\S]*kube-vip/);
    expect(out).toContain('--config-map [NS/]NAME');
    expect(out).toContain('kube-system/kubevip');
  });
});
