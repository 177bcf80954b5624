// Finding the config inside what a user hands us: the bare config YAML, a ConfigMap
// manifest (one document or several) whose `data.config` holds it, kube-vip-cloud-
// provider's ConfigMap, whose data keys are the config, or MetalLB's objects (metallb.io
// IPAddressPool, L2Advertisement, BGPPeer…), several to a file.
import { isScalar, LineCounter, parseAllDocuments } from 'yaml';
import type { Document, Node } from 'yaml';
import { kubeVipConfigMapRef, parseKubeVipConfigMap } from './kube-vip.js';
import { isMetalLbObject, parseMetalLbDocuments } from './metallb-source.js';
import type { FileDocument, PlainObject } from './metallb-source.js';
import { byLine, parseConfig } from './parse.js';
import type { ConfigIssue, ParseResult } from './types.js';
import { documentIssues } from './yaml-reader.js';
import { joinKey } from './yaml-path.js';

/** The ConfigMap vipcast reads its config from. */
export const configMapRef = { namespace: 'vipcast-system', name: 'vipcast-config', key: 'config' } as const;

/** A parse result for a file, naming what was read (`ConfigMap ns/name` or `config`). */
export type FileParseResult = ParseResult & { readonly resource: string; readonly notes: readonly string[] };

/** Parses a file holding either a bare config or a ConfigMap manifest that carries one. */
export function parseConfigFile(text: string): FileParseResult {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  // The same judgement parseConfig makes of its text: a bare config gets the same verdict
  // whether it is read here or from the cluster's ConfigMap.
  const judged = list.map((doc) => documentIssues(doc, text, (offset) => lines.linePos(offset).line));
  const unreadable = judged.flatMap((j) => j.issues);
  if (unreadable.length > 0) return { ok: false, errors: unreadable, warnings: [], resource: 'file', notes: [] };

  const values = list.map((doc) => ({ doc, js: plainValue(doc) }));
  const failed = values.find((v) => v.js instanceof Error);
  if (failed) {
    const message = `the file cannot be read as YAML values: ${(failed.js as Error).message}`;
    return { ok: false, errors: [{ path: '', line: undefined, message }], warnings: [], resource: 'file', notes: [] };
  }
  const objects = values.filter((v) => isKubernetesObject(v.js));
  if (objects.length === 0) return { ...parseConfig(text), resource: 'config', notes: [] };
  const documents = objects.flatMap((v) => listItems(v.doc, v.js as PlainObject));
  if (documents.some((d) => isMetalLbObject(d.js))) {
    const aliases = new Map(judged.flatMap((j) => [...j.aliases]));
    return parseMetalLbDocuments(documents, aliases, lines);
  }

  const kubeVip = objects.filter((v) => isKubeVipConfigMap(v.js as KubernetesObject));
  const candidates = objects.filter((v) => {
    const js = v.js as KubernetesObject;
    return js.kind === 'ConfigMap' && typeof js.data?.[configMapRef.key] === 'string' && !kubeVip.includes(v);
  });
  const chosen = candidates.find((v) => (v.js as KubernetesObject).metadata?.name === configMapRef.name) ?? candidates[0];
  const kubeVipChosen = kubeVip[0];
  if (!chosen && kubeVipChosen) return kubeVipFileResult(kubeVipChosen.doc, kubeVipChosen.js as KubernetesObject, lines);
  if (!chosen) {
    const message = `no ConfigMap with a "data.${configMapRef.key}" key (vipcast, MetalLB) or named "${kubeVipConfigMapRef.name}" (kube-vip-cloud-provider) found among ${objects.length} Kubernetes object(s)`;
    return { ok: false, errors: [{ path: '', line: undefined, message }], warnings: [], resource: 'file', notes: [] };
  }
  const object = chosen.js as KubernetesObject;
  const namespace = object.metadata?.namespace ?? '(no namespace)';
  const name = object.metadata?.name ?? '(no name)';
  const notes: string[] = [];
  if (namespace !== configMapRef.namespace || name !== configMapRef.name) {
    notes.push(`vipcast reads ConfigMap ${configMapRef.namespace}/${configMapRef.name}; this file's is ${namespace}/${name}`);
  }
  const valueNode = chosen.doc.getIn(['data', configMapRef.key], true) as Node | undefined;
  // Only a literal block scalar (`config: |`) keeps the file's line breaks one for one.
  const lineOffset =
    valueNode && isScalar(valueNode) && valueNode.type === 'BLOCK_LITERAL' && valueNode.range
      ? lines.linePos(valueNode.range[0]).line
      : undefined;
  const value = object.data?.[configMapRef.key];
  const configText = typeof value === 'string' ? value : '';
  return { ...parseConfig(configText, { lineOffset }), resource: `ConfigMap ${namespace}/${name}`, notes };
}

/** A document's objects: itself, or the items of a `List` (what `kubectl get -o yaml` writes). */
function listItems(doc: Document, js: PlainObject): FileDocument[] {
  const items = (js as { items?: unknown }).items;
  if (js.kind === 'List' && Array.isArray(items)) {
    return items.map((item, i) => ({ js: item as PlainObject, contents: (doc.getIn(['items', i], true) as Node | undefined) ?? undefined }));
  }
  return [{ js, contents: doc.contents ?? undefined }];
}

/**
 * A document as plain values, as kubectl would send it. Its aliases were checked first (no
 * cycles, bounded expansion), so the library's own alias limit is not needed; anything
 * the library still throws comes back as an Error rather than escaping.
 */
function plainValue(doc: Document): unknown {
  try {
    return doc.toJS({ maxAliasCount: -1 }) as unknown;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * Whether an object is kube-vip-cloud-provider's ConfigMap: named `kubevip`, or holding
 * `cidr-`/`range-` keys and no vipcast `config` key (kube-vip-cloud-provider can be told to
 * read another name).
 */
function isKubeVipConfigMap(object: KubernetesObject): boolean {
  if (object.kind !== 'ConfigMap') return false;
  if (object.metadata?.name === kubeVipConfigMapRef.name) return true;
  const keys = Object.keys(object.data ?? {});
  return !keys.includes(configMapRef.key) && keys.some((key) => key.startsWith('cidr-') || key.startsWith('range-'));
}

/** Parses a kube-vip-cloud-provider ConfigMap of a file, with the line of each data key. */
function kubeVipFileResult(doc: Document, object: KubernetesObject, lines: LineCounter): FileParseResult {
  const namespace = object.metadata?.namespace ?? '(no namespace)';
  const name = object.metadata?.name ?? '(no name)';
  const resource = `kube-vip-cloud-provider ConfigMap ${namespace}/${name}`;
  const notes: string[] = [];
  if (namespace !== kubeVipConfigMapRef.namespace || name !== kubeVipConfigMapRef.name) {
    notes.push(`kube-vip-cloud-provider reads ConfigMap ${kubeVipConfigMapRef.namespace}/${kubeVipConfigMapRef.name} unless told otherwise; this file's is ${namespace}/${name}`);
  }
  const raw: unknown = object.data ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, errors: [{ path: 'data', line: undefined, message: 'data must be a mapping of keys to strings' }], warnings: [], resource, notes };
  }
  const keyLines = new Map<string, number>();
  const data: Record<string, string> = {};
  const typeErrors: ConfigIssue[] = [];
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const node = doc.getIn(['data', key], true) as Node | undefined;
    const line = node?.range ? lines.linePos(node.range[0]).line : undefined;
    if (line !== undefined) keyLines.set(key, line);
    if (typeof value === 'string') data[key] = value;
    else {
      const written = typeof value === 'boolean' || typeof value === 'number' ? ` (write "${String(value)}")` : '';
      typeErrors.push({ path: joinKey('data', key), line, message: `the value must be a quoted string: the API server refuses a ConfigMap whose data holds anything else${written}` });
    }
  }
  const result = parseKubeVipConfigMap(data, { lines: keyLines });
  if (typeErrors.length === 0) return { ...result, resource, notes };
  const errors = byLine([...typeErrors, ...(result.ok ? [] : result.errors)]);
  return { ok: false, errors, warnings: result.warnings, resource, notes };
}

interface KubernetesObject {
  kind: string;
  metadata?: { name?: string; namespace?: string };
  data?: Record<string, unknown>;
}

function isKubernetesObject(value: unknown): value is KubernetesObject {
  return typeof value === 'object' && value !== null && 'kind' in value && 'apiVersion' in value;
}

