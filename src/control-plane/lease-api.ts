// The few API calls of the control-plane agent, as plain functions over an ApiClient and a
// target: read/create/replace/release the Lease, an access review, the API server peers, and
// /readyz. Each returns a small tagged result instead of throwing on HTTP statuses.
import type { ApiClient, ApiTarget } from './api-client.js';
import { leaseRecordFrom, type LeaseRecord } from '../k8s/lease-election.js';

/** Where the Lease lives. */
export interface LeaseRef {
  readonly namespace: string;
  readonly name: string;
}

/** The outcome of a Lease call. */
export type LeaseResult =
  | { readonly kind: 'ok'; readonly lease: LeaseRecord | undefined }
  | { readonly kind: 'conflict' }
  | { readonly kind: 'refused'; readonly status: number }
  | { readonly kind: 'error'; readonly message: string };

function collectionPath(ref: LeaseRef): string {
  return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(ref.namespace)}/leases`;
}

function leasePath(ref: LeaseRef): string {
  return `${collectionPath(ref)}/${encodeURIComponent(ref.name)}`;
}

/** The watch URL that reports every change of the Lease. */
export function leaseWatchPath(ref: LeaseRef): string {
  return `${collectionPath(ref)}?watch=1&fieldSelector=${encodeURIComponent(`metadata.name=${ref.name}`)}`;
}

function classify(status: number, json: unknown, what: string): LeaseResult {
  if (status === 200 || status === 201) return { kind: 'ok', lease: leaseRecordFrom(json) };
  if (status === 404 && what === 'GET') return { kind: 'ok', lease: undefined };
  if (status === 409) return { kind: 'conflict' };
  if (status === 401 || status === 403) return { kind: 'refused', status };
  const message = (json as { message?: unknown } | undefined)?.message;
  return { kind: 'error', message: `${what} Lease → ${status}${typeof message === 'string' ? `: ${message}` : ''}` };
}

async function call(client: ApiClient, target: ApiTarget, method: string, path: string, timeoutMs: number, body?: unknown): Promise<LeaseResult> {
  try {
    const response = await client.send(target, method, path, timeoutMs, body);
    return classify(response.status, response.json, method);
  } catch (error) {
    return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
  }
}

/** Reads the Lease (ok with undefined when it does not exist). */
export function getLease(client: ApiClient, target: ApiTarget, ref: LeaseRef, timeoutMs: number): Promise<LeaseResult> {
  return call(client, target, 'GET', leasePath(ref), timeoutMs);
}

function body(ref: LeaseRef, spec: Record<string, unknown>, resourceVersion?: string): unknown {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: ref.name, namespace: ref.namespace, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
    spec,
  };
}

/** Creates the Lease with this spec (conflict when it exists already). */
export function createLease(client: ApiClient, target: ApiTarget, ref: LeaseRef, spec: Record<string, unknown>, timeoutMs: number): Promise<LeaseResult> {
  return call(client, target, 'POST', collectionPath(ref), timeoutMs, body(ref, spec));
}

/** Replaces the Lease read at resourceVersion (conflict when it changed since). */
export function replaceLease(
  client: ApiClient,
  target: ApiTarget,
  ref: LeaseRef,
  resourceVersion: string,
  spec: Record<string, unknown>,
  timeoutMs: number,
): Promise<LeaseResult> {
  return call(client, target, 'PUT', leasePath(ref), timeoutMs, body(ref, spec, resourceVersion));
}

/** Whether this client may update the Lease (a SelfSubjectAccessReview); undefined when the review itself failed. */
export async function mayUpdateLease(client: ApiClient, target: ApiTarget, ref: LeaseRef, timeoutMs: number): Promise<boolean | undefined> {
  const review = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes: { namespace: ref.namespace, verb: 'update', group: 'coordination.k8s.io', resource: 'leases', name: ref.name } },
  };
  try {
    const response = await client.send(target, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', timeoutMs, review);
    if (response.status !== 201 && response.status !== 200) return undefined;
    return (response.json as { status?: { allowed?: unknown } } | undefined)?.status?.allowed === true;
  } catch {
    return undefined;
  }
}

/** The API servers listed in the `default/kubernetes` Endpoints (every server's advertise address), or undefined on failure. */
export async function apiServerPeers(client: ApiClient, target: ApiTarget, timeoutMs: number): Promise<ApiTarget[] | undefined> {
  try {
    const response = await client.send(target, 'GET', '/api/v1/namespaces/default/endpoints/kubernetes', timeoutMs);
    if (response.status !== 200) return undefined;
    const endpoints = response.json as { subsets?: { addresses?: { ip?: unknown }[]; ports?: { name?: unknown; port?: unknown }[] }[] } | undefined;
    const peers: ApiTarget[] = [];
    for (const subset of endpoints?.subsets ?? []) {
      const port = subset.ports?.find((p) => p.name === 'https')?.port ?? subset.ports?.[0]?.port;
      if (typeof port !== 'number') continue;
      for (const address of subset.addresses ?? []) if (typeof address.ip === 'string') peers.push({ host: address.ip, port });
    }
    return peers;
  } catch {
    return undefined;
  }
}

/** Whether the API server answers /readyz with 200 within the timeout. */
export async function isReady(client: ApiClient, target: ApiTarget, timeoutMs: number): Promise<{ ready: boolean; detail: string }> {
  try {
    const response = await client.send(target, 'GET', '/readyz', timeoutMs);
    return { ready: response.status === 200, detail: `/readyz ${response.status}` };
  } catch (error) {
    return { ready: false, detail: error instanceof Error ? error.message : String(error) };
  }
}
