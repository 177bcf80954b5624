// What the lab puts into its API server: the Namespace, ServiceAccounts and RBAC of
// manifests/vipcast.yaml (the Deployment and DaemonSet are left out: the lab runs the same
// programs as processes in namespaces, as nothing here would run Pods), the address-pool
// ConfigMap, and Ready Node objects standing for the node namespaces (there is no kubelet).
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { kubeExpectOk, kubeRequest, type KubeCredentials } from './kube-client.js';

/** A Kubernetes object read from a manifest. */
interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

const collections: Record<string, { plural: string; clusterScoped: boolean }> = {
  Namespace: { plural: 'namespaces', clusterScoped: true },
  ServiceAccount: { plural: 'serviceaccounts', clusterScoped: false },
  ClusterRole: { plural: 'clusterroles', clusterScoped: true },
  ClusterRoleBinding: { plural: 'clusterrolebindings', clusterScoped: true },
  Role: { plural: 'roles', clusterScoped: false },
  RoleBinding: { plural: 'rolebindings', clusterScoped: false },
  ConfigMap: { plural: 'configmaps', clusterScoped: false },
};

/** The kinds of manifests/vipcast.yaml the lab applies. */
const labManifestKinds: readonly string[] = ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];

/** Server-side applies one object as `kubectl apply --server-side` would. */
async function apply(admin: KubeCredentials, object: ManifestObject): Promise<void> {
  const collection = collections[object.kind];
  if (collection === undefined) throw new Error(`the lab cannot apply a ${object.kind}`);
  const group = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
  const scope = collection.clusterScoped ? '' : `/namespaces/${object.metadata.namespace ?? 'default'}`;
  const path = `${group}${scope}/${collection.plural}/${encodeURIComponent(object.metadata.name)}?fieldManager=vipcast-lab&force=true&fieldValidation=Strict`;
  const response = await kubeRequest(admin, path, { method: 'PATCH', body: object, contentType: 'application/apply-patch+yaml' });
  if (response.status !== 200 && response.status !== 201) throw new Error(`applying ${object.kind} ${object.metadata.name} → ${response.status}: ${response.text.slice(0, 400)}`);
}

/** Applies the Namespace, ServiceAccounts and RBAC objects of a manifest file, Namespaces first; resolves with what was applied. */
export async function applyRbac(admin: KubeCredentials, file: string): Promise<string[]> {
  const docs = parseAllDocuments(await readFile(file, 'utf8'));
  const objects = (Array.isArray(docs) ? docs : [])
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message ?? 'YAML error'}`);
      return doc.toJS() as ManifestObject | null;
    })
    .filter((o): o is ManifestObject => o !== null && labManifestKinds.includes(o.kind))
    .sort((a, b) => labManifestKinds.indexOf(a.kind) - labManifestKinds.indexOf(b.kind));
  for (const object of objects) await apply(admin, object);
  return objects.map((o) => `${o.kind} ${o.metadata.namespace === undefined ? '' : `${o.metadata.namespace}/`}${o.metadata.name}`);
}

/** Applies ConfigMap vipcast-system/vipcast-config holding the address-pool config. */
export async function applyPoolConfig(admin: KubeCredentials, config: string): Promise<void> {
  await apply(admin, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vipcast-config', namespace: 'vipcast-system' }, data: { config } } as ManifestObject);
}

/** Registers a Node object and marks it Ready, as a kubelet would. */
export async function registerReadyNode(admin: KubeCredentials, name: string, addresses: readonly string[]): Promise<void> {
  const created = await kubeRequest(admin, '/api/v1/nodes', { method: 'POST', body: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } } });
  if (created.status !== 201 && created.status !== 409) throw new Error(`creating Node ${name} → ${created.status}: ${created.text.slice(0, 300)}`);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await kubeExpectOk(admin, `/api/v1/nodes/${name}/status`, {
    method: 'PATCH',
    contentType: 'application/strategic-merge-patch+json',
    body: {
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'VipcastLab', message: 'a vipcast lab namespace', lastHeartbeatTime: now, lastTransitionTime: now }],
        addresses: addresses.map((address) => ({ type: 'InternalIP', address })),
      },
    },
  });
}
