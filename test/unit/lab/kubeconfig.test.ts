// writeKubeconfig and readKubeconfig: what one writes, the other reads back, and client-node
// (what the controller and speaker load) sees the same server and credentials.
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { readKubeconfig, writeKubeconfig, type KubeCredentials } from '../../../lab/kube-client.js';

const dir = mkdtempSync(join(tmpdir(), 'vipcast-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ca = '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n';
const withCert: KubeCredentials = { server: 'https://127.0.0.1:6443', ca, cert: 'CERT PEM\n', key: 'KEY PEM\n' };
const withToken: KubeCredentials = { server: 'https://127.0.0.1:7443', ca, token: 'eyJhbGciOi.token' };

describe('kubeconfig files', () => {
  it('reads back the client certificate it wrote, and client-node agrees', async () => {
    const path = await writeKubeconfig(withCert, join(dir, 'cert.kubeconfig'), { cluster: 'vipcast-lab' });
    expect(readKubeconfig(path)).toEqual(withCert);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    expect(kc.getCurrentCluster()?.server).toBe(withCert.server);
    expect(Buffer.from(kc.getCurrentUser()?.certData ?? '', 'base64').toString()).toBe(withCert.cert);
  });

  it('reads back a bearer token, with no certificate', async () => {
    const path = await writeKubeconfig(withToken, join(dir, 'token.kubeconfig'), { cluster: 'lab', user: 'speaker' });
    expect(readKubeconfig(path)).toEqual(withToken);
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    expect(kc.getCurrentUser()).toMatchObject({ name: 'speaker', token: withToken.token });
  });

  it('follows current-context, not the first entries (YAML as kubectl writes it)', () => {
    const path = join(dir, 'two.yaml');
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: second',
        'clusters:',
        '- {name: a, cluster: {server: "https://127.0.0.1:1"}}',
        '- {name: b, cluster: {server: "https://127.0.0.1:2"}}',
        'users:',
        '- {name: u1, user: {token: one}}',
        '- {name: u2, user: {token: two}}',
        'contexts:',
        '- {name: first, context: {cluster: a, user: u1}}',
        '- {name: second, context: {cluster: b, user: u2}}',
        '',
      ].join('\n'),
    );
    expect(readKubeconfig(path)).toEqual({ server: 'https://127.0.0.1:2', ca: '', token: 'two' });
  });

  it('names the file when the current context has no cluster or user', () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'apiVersion: v1\nkind: Config\ncurrent-context: gone\nclusters: []\nusers: []\ncontexts: []\n');
    expect(() => readKubeconfig(path)).toThrow(`${path}: no server and user for the current context (gone)`);
  });
});
