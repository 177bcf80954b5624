// Which credential the control-plane agent uses, and the kubeadm ≥1.29 bootstrap rule
// (ADR 0012): during `kubeadm init` the node's admin.conf (group kubeadm:cluster-admins) has
// no rights until kubeadm binds that group near the end of init, and only super-admin.conf
// (group system:masters) works. The agent starts with admin.conf; only while admin.conf is
// refused does it use super-admin.conf, and the moment admin.conf is granted what the agent
// needs it switches back for good and forgets the super-admin credential.
import { statSync } from 'node:fs';
import { kubeconfigAccess } from '../k8s/kubeconfig.js';

/** TLS material and headers taken from a kubeconfig (its server address is ignored). */
export interface ApiCredentials {
  /** Where they came from, for logs. */
  readonly source: string;
  /** PEM CA bundle that signs the API server certificate. */
  readonly ca?: string;
  /** PEM client certificate. */
  readonly cert?: string;
  /** PEM client key. */
  readonly key?: string;
  /** Extra headers (a bearer token). */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Reads credentials from a kubeconfig file. Returns undefined when the file is missing or
 * empty (kubelet creates an empty file for a FileOrCreate hostPath on nodes without one);
 * throws when it exists but cannot be used.
 */
export async function readKubeconfigCredentials(path: string): Promise<ApiCredentials | undefined> {
  try {
    if (statSync(path).size === 0) return undefined;
  } catch {
    return undefined;
  }
  const access = await kubeconfigAccess(path);
  const { ca, cert, key } = access.tls;
  const headers = { ...(await access.headers()) };
  return { source: path, headers, ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) };
}

/** Which credential is in use. */
export type CredentialRole = 'admin' | 'bootstrap';

/** What the chooser decided after an answer from the API. */
export type CredentialChange = { kind: 'none' } | { kind: 'use-bootstrap' } | { kind: 'use-admin'; final: boolean };

/**
 * The one-way bootstrap rule as a small state machine: `admin` → (admin refused, bootstrap
 * available) → `bootstrap` → (admin granted) → `admin`, final. Once final, the bootstrap
 * credential is never used again, even if admin is refused later.
 */
export class CredentialChooser {
  private role: CredentialRole = 'admin';
  private final = false;

  /** The credential to use now. */
  get current(): CredentialRole {
    return this.role;
  }

  /** Whether the bootstrap credential has been given up for good. */
  get bootstrapRetired(): boolean {
    return this.final;
  }

  /** The admin credential was refused (401/403) for a Lease request. */
  adminRefused(bootstrapAvailable: boolean): CredentialChange {
    if (this.role === 'admin' && !this.final && bootstrapAvailable) {
      this.role = 'bootstrap';
      return { kind: 'use-bootstrap' };
    }
    return { kind: 'none' };
  }

  /** An access review (or a Lease request) showed the admin credential has what the agent needs. */
  adminGranted(): CredentialChange {
    if (this.final) return { kind: 'none' };
    this.final = true;
    const wasBootstrap = this.role === 'bootstrap';
    this.role = 'admin';
    return wasBootstrap ? { kind: 'use-admin', final: true } : { kind: 'none' };
  }
}
