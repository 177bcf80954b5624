// Service and Event helpers for the controller's k8s-tier tests, over plain HTTPS.
import { kubeExpectOk, kubeRequest, type KubeCredentials } from '../../lab/kube-client.js';
import { waitFor } from '../../lab/cluster-helpers.js';

/** A Service as the tests read it back. */
export interface TestService {
  metadata: { name: string; namespace: string; uid: string; annotations?: Record<string, string>; managedFields?: { manager?: string; subresource?: string; time?: string }[] };
  spec: { type: string; loadBalancerClass?: string; ipFamilies?: string[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; ipMode?: string }[] } };
}

/** An events.k8s.io/v1 Event as the tests read it back. */
export interface TestEvent {
  reason: string;
  type: string;
  note: string;
  regarding: { kind: string; name: string; namespace?: string };
  reportingController?: string;
  series?: { count: number };
}

/** What a test Service asks for. */
export interface ServiceShape {
  readonly annotations?: Record<string, string>;
  readonly spec?: Record<string, unknown>;
  readonly port?: number;
}

/** Creates a namespace (with labels) unless it exists. */
export async function ensureNamespace(admin: KubeCredentials, name: string, labels: Record<string, string> = {}): Promise<void> {
  const response = await kubeRequest(admin, '/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } } });
  if (response.status !== 201 && response.status !== 409) throw new Error(`creating namespace ${name}: ${response.status} ${response.text}`);
}

/** Creates a `type: LoadBalancer` Service. */
export async function createService(admin: KubeCredentials, namespace: string, name: string, shape: ServiceShape = {}): Promise<TestService> {
  return (await kubeExpectOk(admin, `/api/v1/namespaces/${namespace}/services`, {
    method: 'POST',
    body: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, annotations: shape.annotations ?? {} },
      spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'p', port: shape.port ?? 80, protocol: 'TCP' }], ...shape.spec },
    },
  })) as TestService;
}

/** Reads a Service. */
export async function getService(admin: KubeCredentials, namespace: string, name: string): Promise<TestService> {
  return (await kubeExpectOk(admin, `/api/v1/namespaces/${namespace}/services/${name}`)) as TestService;
}

/** Deletes a Service. */
export async function deleteService(admin: KubeCredentials, namespace: string, name: string): Promise<void> {
  await kubeExpectOk(admin, `/api/v1/namespaces/${namespace}/services/${name}`, { method: 'DELETE' });
}

/** The addresses in a Service's status. */
export function ingressIps(service: TestService): string[] {
  return (service.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
}

/** Waits until a Service's status lists `count` addresses, and returns the Service. */
export async function waitForIngress(admin: KubeCredentials, namespace: string, name: string, count = 1, timeoutMs = 20_000): Promise<TestService> {
  return waitFor(
    async () => {
      const service = await getService(admin, namespace, name);
      return ingressIps(service).length === count ? service : undefined;
    },
    timeoutMs,
    `${namespace}/${name} to show ${count} address(es)`,
  );
}

/** Every events.k8s.io/v1 Event in a namespace about the named object. */
export async function eventsAbout(admin: KubeCredentials, namespace: string, name: string): Promise<TestEvent[]> {
  const list = (await kubeExpectOk(admin, `/apis/events.k8s.io/v1/namespaces/${namespace}/events`)) as { items: TestEvent[] };
  return list.items.filter((e) => e.regarding.name === name);
}

/** Waits for an Event with this reason about the named object, and returns it. */
export async function waitForEvent(admin: KubeCredentials, namespace: string, name: string, reason: string, timeoutMs = 20_000): Promise<TestEvent> {
  return waitFor(async () => (await eventsAbout(admin, namespace, name)).find((e) => e.reason === reason), timeoutMs, `a ${reason} Event about ${namespace}/${name}`);
}
