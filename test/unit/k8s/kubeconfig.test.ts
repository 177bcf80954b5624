// vipcast's own kubeconfig reader (ADR 0023): what it takes from a file and from a Pod's
// ServiceAccount, what it refuses by name, and the exec plugin it hands to client-node.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inClusterAccess, kubeconfigAccess, loadApiAccess } from '../../../src/k8s/kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'vipcast-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (text: string): string => Buffer.from(text).toString('base64');

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function kubeconfig(name: string, cluster: string, user: string): string {
  return file(
    name,
    `apiVersion: v1
kind: Config
current-context: here
contexts:
- name: elsewhere
  context: {cluster: other, user: other}
- name: here
  context: {cluster: lab, user: me}
clusters:
- name: other
  cluster: {server: "https://192.0.2.99:6443"}
- name: lab
  cluster:
${cluster.replace(/^/gm, '    ')}
users:
- name: me
  user:
${user.replace(/^/gm, '    ')}
`,
  );
}

describe('a kubeconfig file', () => {
  it('gives the current context\'s server, CA and client certificate, from data or from files beside it', async () => {
    file('client.crt', 'CERT PEM\n');
    const path = kubeconfig('certs', `server: https://127.0.0.1:6443/\ncertificate-authority-data: ${b64('CA PEM\n')}\ntls-server-name: kubernetes`, `client-certificate: client.crt\nclient-key-data: ${b64('KEY PEM\n')}`);
    const access = await kubeconfigAccess(path);
    expect(access.server).toBe('https://127.0.0.1:6443');
    expect(access.tls).toEqual({ ca: 'CA PEM\n', cert: 'CERT PEM\n', key: 'KEY PEM\n', servername: 'kubernetes', rejectUnauthorized: true });
    expect(await access.headers()).toEqual({});
  });

  it('sends a token, a token file (read again as it rotates) or basic credentials', async () => {
    const token = await kubeconfigAccess(kubeconfig('token', 'server: https://127.0.0.1:6443\ninsecure-skip-tls-verify: true', 'token: abc.def'));
    expect(await token.headers()).toEqual({ Authorization: 'Bearer abc.def' });
    expect(token.tls.rejectUnauthorized).toBe(false);
    file('token-file', 'from-file\n');
    const fromFile = await kubeconfigAccess(kubeconfig('token-file.kubeconfig', 'server: https://127.0.0.1:6443', 'tokenFile: token-file'));
    expect(await fromFile.headers()).toEqual({ Authorization: 'Bearer from-file' });
    const basic = await kubeconfigAccess(kubeconfig('basic', 'server: https://127.0.0.1:6443', 'username: admin\npassword: secret'));
    expect(await basic.headers()).toEqual({ Authorization: `Basic ${b64('admin:secret')}` });
  });

  it('refuses what it cannot honour, naming the file and field', async () => {
    await expect(kubeconfigAccess(kubeconfig('as', 'server: https://127.0.0.1:6443', 'token: t\nas: someone'))).rejects.toThrow(/as: impersonation is not supported/);
    await expect(kubeconfigAccess(kubeconfig('proxy', 'server: https://127.0.0.1:6443\nproxy-url: http://proxy:3128', 'token: t'))).rejects.toThrow(/clusters\[1\]\.cluster\.proxy-url: a proxy is not supported/);
    await expect(kubeconfigAccess(kubeconfig('http', 'server: http://127.0.0.1:8080', 'token: t'))).rejects.toThrow(/clusters\[1\]\.cluster\.server: "http:\/\/127\.0\.0\.1:8080" is not an https:\/\/ URL/);
    await expect(kubeconfigAccess(kubeconfig('half', 'server: https://127.0.0.1:6443', `client-certificate-data: ${b64('C')}`))).rejects.toThrow(/users\[0\]\.user\.client-key: a client certificate needs both/);
    await expect(kubeconfigAccess(kubeconfig('missing', 'server: https://127.0.0.1:6443\ncertificate-authority: nowhere.crt', 'token: t'))).rejects.toThrow(/certificate-authority.*nowhere\.crt/);
    await expect(kubeconfigAccess(file('no-context', 'clusters: []\n'))).rejects.toThrow(/current-context: not set/);
    await expect(kubeconfigAccess(file('alias', 'current-context: *nope\n'))).rejects.toThrow(/not a kubeconfig/);
    await expect(loadApiAccess({ kubeconfig: join(dir, 'absent') })).rejects.toThrow(/cannot read the kubeconfig/);
  });

  it('hands an exec plugin to client-node, which runs it for the token', async () => {
    const plugin = file('plugin.js', `process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-plugin' } }))`);
    const path = kubeconfig('exec', 'server: https://127.0.0.1:6443', `exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: ${process.execPath}\n  args: [${plugin}]\n  interactiveMode: Never`);
    const access = await kubeconfigAccess(path);
    expect(access.source).toContain('exec plugin');
    expect(await access.headers()).toEqual({ Authorization: 'Bearer from-plugin' });
  });
});

describe('the in-cluster ServiceAccount', () => {
  it('reaches the Service address from the environment with the mounted CA and token', async () => {
    const sa = join(dir, 'sa');
    mkdirSync(sa);
    writeFileSync(join(sa, 'ca.crt'), 'CLUSTER CA\n');
    writeFileSync(join(sa, 'token'), 'pod-token\n');
    const access = inClusterAccess({ KUBERNETES_SERVICE_HOST: 'fd00:10::1', KUBERNETES_SERVICE_PORT: '443' }, sa);
    expect(access.server).toBe('https://[fd00:10::1]:443');
    expect(access.tls).toEqual({ ca: 'CLUSTER CA\n', rejectUnauthorized: true });
    expect(await access.headers()).toEqual({ Authorization: 'Bearer pod-token' });
    await expect(loadApiAccess({}, {})).rejects.toThrow(/not running in a Pod/);
  });
});
