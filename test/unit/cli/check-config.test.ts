import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { VERSION } from '../../../src/version.js';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const code = await main(args);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('vipcast check-config', () => {
  it('prints a summary and exits 0 for a valid config', async () => {
    const { code, out } = await run(['check-config', 'examples/bgp-peering.yaml']);
    expect(code).toBe(0);
    expect(out).toContain('examples/bgp-peering.yaml: ConfigMap vipcast-system/vipcast-config is valid');
    expect(out).toMatch(/routed\s+bgp\s+dual-stack\s+18446744073709551680\s+yes\s+203\.0\.113\.0\/26, 2001:db8:1::\/64/);
    expect(out).toContain('10.1.0.1 AS64501 from AS64500 (eBGP): port 179, hold 9s, keepalive 3s, BFD fast');
  });

  it('prints every error with path and line and exits 1 for a broken config', async () => {
    const { code, out } = await run(['check-config', 'test/fixtures/config/broken.yaml']);
    expect(code).toBe(1);
    expect(out).toContain('is invalid (10 errors):');
    expect(out).toContain('  address-pools[0].addresses[0] (line 14): "10.0.0.9-10.0.0.1" is a reversed range');
  });

  it("prints what the README's example of a broken config shows", async () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = /\n {4}\$ npx vipcast check-config (\S+)\n((?: {4}.*\n)+)/.exec(readme);
    expect(block, 'the README shows a check-config run on a broken file').not.toBeNull();
    const { out } = await run(['check-config', block?.[1] ?? '']);
    const shown = (block?.[2] ?? '').split('\n').map((line) => line.slice(4)).filter((line) => line !== '' && line.trim() !== '...');
    expect(shown.length).toBeGreaterThan(1);
    const printed = out.split('\n');
    expect(shown[0]).toBe(printed[0]);
    for (const line of shown.slice(1)) expect(printed).toContain(line);
  });

  it('notes that a MetalLB ConfigMap has another name', async () => {
    const { code, out } = await run(['check-config', 'test/fixtures/config/metallb-layer2.yaml']);
    expect(code).toBe(0);
    expect(out).toContain('note: vipcast reads ConfigMap vipcast-system/vipcast-config; this file\'s is metallb-system/config');
  });

  it('prints warnings after the verdict', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipcast-cli-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'address-pools:\n- {name: a, protocol: layer2, addresses: [10.0.0.1/24]}\n');
    const { code, out } = await run(['check-config', file]);
    expect(code).toBe(0);
    expect(out).toContain('warnings:\n  address-pools[0].addresses[0] (line 2): "10.0.0.1/24" has host bits set');
  });

  it("prints the same summary for kube-vip-cloud-provider's ConfigMap, one pool per key", async () => {
    const { code, out } = await run(['check-config', 'test/fixtures/config/kube-vip.yaml']);
    expect(code).toBe(0);
    expect(out).toContain('test/fixtures/config/kube-vip.yaml: kube-vip-cloud-provider ConfigMap kube-system/kubevip is valid');
    expect(out).toMatch(/cidr-development\s+layer2\s+IPv4\s+6\s+yes\s+192\.168\.0\.209-192\.168\.0\.214/);
    expect(out).toContain('  range-global: namespaces labelled kubernetes.io/metadata.name notin (default,development); skips .0 and .255');
    expect(out).toContain('  cidr-development: namespaces development; on interfaces eth5; skips .0 and .255');
  });

  it("prints every error of a kube-vip-cloud-provider ConfigMap with its key and line", async () => {
    const { code, out } = await run(['check-config', 'test/fixtures/config/kube-vip-broken.yaml']);
    expect(code).toBe(1);
    expect(out).toContain('kube-vip-cloud-provider ConfigMap kube-system/kubevip is invalid (5 errors):');
    expect(out).toContain('  data.cidr-global (line 8): "192.168.0.0/33" is not a valid CIDR: the prefix length must be 0 to 32');
    expect(out).toContain('  data.range-dev (line 9): "192.168.1.20-192.168.1.10" is a reversed range');
    expect(out).toContain('  data.allow-shared-dev (line 10): unknown key "allow-shared-dev"');
    expect(out).toContain('  data.allow-share-global (line 11): the value must be a quoted string');
    expect(out).toContain('  data.search-order (line 12): vipcast always hands out the lowest free address');
  });

  it('exits 2 for a missing file or missing argument', async () => {
    expect((await run(['check-config', 'does/not/exist.yaml'])).err).toContain('cannot read does/not/exist.yaml: ENOENT');
    expect((await run(['check-config'])).code).toBe(2);
    expect((await run(['check-config', 'a', 'b'])).code).toBe(2);
  });
});

describe('vipcast', () => {
  it('lists its commands and rejects unknown ones', async () => {
    expect((await run(['--help'])).out).toContain('check-config');
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown command "frobnicate"');
  });

  it('reports the version in package.json', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect((await run(['version'])).out).toBe(`vipcast ${pkg.version}`);
  });
});
