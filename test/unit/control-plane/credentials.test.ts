// The kubeadm ≥1.29 bootstrap rule: super-admin only while admin is refused, and never again
// once admin has its rights.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CredentialChooser, readKubeconfigCredentials } from '../../../src/control-plane/credentials.js';

describe('CredentialChooser', () => {
  it('uses admin, falls back to bootstrap while admin is refused, and returns to admin for good', () => {
    const chooser = new CredentialChooser();
    expect(chooser.current).toBe('admin');
    expect(chooser.adminRefused(true)).toEqual({ kind: 'use-bootstrap' });
    expect(chooser.current).toBe('bootstrap');
    expect(chooser.adminGranted()).toEqual({ kind: 'use-admin', final: true });
    expect(chooser.current).toBe('admin');
    // Refused again later (someone broke RBAC): it stays on admin, never more rights.
    expect(chooser.adminRefused(true)).toEqual({ kind: 'none' });
    expect(chooser.current).toBe('admin');
    expect(chooser.bootstrapRetired).toBe(true);
  });

  it('stays on admin when there is no bootstrap kubeconfig (a joined node)', () => {
    const chooser = new CredentialChooser();
    expect(chooser.adminRefused(false)).toEqual({ kind: 'none' });
    expect(chooser.current).toBe('admin');
  });

  it('never uses the bootstrap credential once admin has worked', () => {
    const chooser = new CredentialChooser();
    expect(chooser.adminGranted()).toEqual({ kind: 'none' });
    expect(chooser.adminRefused(true)).toEqual({ kind: 'none' });
    expect(chooser.current).toBe('admin');
  });
});

describe('readKubeconfigCredentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipcast-cred-'));

  it('treats a missing or empty file (kubelet FileOrCreate on a joined node) as absent', async () => {
    expect(await readKubeconfigCredentials(join(dir, 'missing.conf'))).toBeUndefined();
    writeFileSync(join(dir, 'empty.conf'), '');
    expect(await readKubeconfigCredentials(join(dir, 'empty.conf'))).toBeUndefined();
  });

  it('reads embedded certificates and tokens, ignoring the server address', async () => {
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    const file = join(dir, 'admin.conf');
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: 'https://192.0.2.100:6443', 'certificate-authority-data': b64('CA') } }],
        users: [{ name: 'u', user: { token: 'secret-token' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    const credentials = await readKubeconfigCredentials(file);
    expect(credentials?.ca).toBe('CA');
    expect(credentials?.headers['Authorization']).toBe('Bearer secret-token');
  });
});
