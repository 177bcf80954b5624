// Where MetalLB objects come from: the documents of a file (check-config: lines known,
// other kinds skipped with a note, Secrets kept for passwordSecret) or the objects the
// API server lists (the programs). Both end in metalLbResult, so a file checked offline
// gets the verdict the controller and the speakers give the same objects in the cluster.
import { createHash } from 'node:crypto';
import { Document, LineCounter } from 'yaml';
import type { Alias, Node } from 'yaml';
import { canonical } from './duplicates.js';
import { metalLbResult } from './metallb.js';
import { isMetalLbKind, metalLbGroup, metalLbNamespace } from './metallb-objects.js';
import type { MetalLbObject, SecretView } from './metallb-objects.js';
import type { ParseResult } from './types.js';
import { Reader } from './yaml-reader.js';

/** A Kubernetes object as plain values (from YAML or from the API). */
export interface PlainObject {
  readonly apiVersion?: unknown;
  readonly kind?: unknown;
  readonly metadata?: { readonly name?: unknown; readonly namespace?: unknown; readonly labels?: unknown };
  readonly type?: unknown;
  readonly data?: unknown;
}

/** Whether an object belongs to MetalLB's API group. */
export function isMetalLbObject(object: PlainObject): boolean {
  return typeof object.apiVersion === 'string' && object.apiVersion.startsWith(`${metalLbGroup}/`);
}

/** One document of a file: its plain value and its node tree. */
export interface FileDocument {
  readonly js: PlainObject;
  readonly contents: Node | undefined;
}

/** The verdict on a file's MetalLB objects, with notes on what was skipped. */
export type MetalLbFileResult = ParseResult & { readonly resource: string; readonly notes: readonly string[] };

/**
 * Reads the MetalLB objects among a file's documents. `aliases` and `lines` are those the
 * documents were parsed with, so errors carry the file's lines.
 */
export function parseMetalLbDocuments(documents: readonly FileDocument[], aliases: ReadonlyMap<Alias, Node>, lines: LineCounter): MetalLbFileResult {
  const notes: string[] = [];
  const r = new Reader(aliases, lines, 0);
  const namespaces = new Set<string>();
  const objects: MetalLbObject[] = [];
  const secrets = new Map<string, SecretView>();
  const skipped = new Map<string, number>();
  for (const { js, contents } of documents) {
    const kind = typeof js.kind === 'string' ? js.kind : '(no kind)';
    if (isMetalLbObject(js) && isMetalLbKind(kind)) {
      const object = toObject(js, contents);
      objects.push(object);
      namespaces.add(typeof js.metadata?.namespace === 'string' ? js.metadata.namespace : metalLbNamespace);
      continue;
    }
    if (kind === 'Secret' && js.apiVersion === 'v1' && typeof js.metadata?.name === 'string') {
      secrets.set(js.metadata.name, secretView(js));
      continue;
    }
    const label = isMetalLbObject(js) ? `${kind} (${String(js.apiVersion)})` : kind;
    skipped.set(label, (skipped.get(label) ?? 0) + 1);
  }
  for (const [label, count] of skipped) {
    const metallb = label.includes(`(${metalLbGroup}/`);
    notes.push(`skipped ${count} ${label} object${count === 1 ? '' : 's'}: ${metallb ? 'a MetalLB kind vipcast does not read' : 'not a MetalLB config kind'}`);
  }
  const resource = `${objects.length} object${objects.length === 1 ? '' : 's'}`;
  if (namespaces.size > 1) {
    const message = `the objects are in ${namespaces.size} namespaces (${[...namespaces].sort().join(', ')}); MetalLB and vipcast read one namespace: check each namespace's objects in a file of their own`;
    return { ok: false, errors: [{ path: '', line: undefined, message }], warnings: [], resource, notes };
  }
  const namespace = [...namespaces][0] ?? metalLbNamespace;
  if (namespace !== metalLbNamespace) notes.push(`the objects are in namespace ${namespace}; run the programs with --metallb-namespace ${namespace}`);
  return { ...metalLbResult(r, objects, { namespace, secrets, secretsComplete: false }), resource: `MetalLB config in namespace ${namespace} (${resource})`, notes };
}

/** The verdict on the MetalLB objects and Secrets of one namespace, as the API server lists them. */
export function parseMetalLbResources(resources: readonly PlainObject[], secrets: ReadonlyMap<string, SecretView>, namespace: string): ParseResult {
  const r = new Reader(new Map(), new LineCounter(), undefined);
  const objects = resources.filter((o) => isMetalLbObject(o) && isMetalLbKind(o.kind)).map((o) => toObject(o, new Document(o).contents ?? undefined));
  return metalLbResult(r, objects, { namespace, secrets, secretsComplete: true });
}

/**
 * What identifies the config the objects make: equal texts, equal configs. Kept as a digest,
 * since it covers the Secrets' passwords.
 */
export function metalLbConfigText(resources: readonly PlainObject[], secrets: ReadonlyMap<string, SecretView>): string {
  const specs = resources
    .map((o) => canonical({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata?.name, labels: o.metadata?.labels ?? {}, spec: (o as { spec?: unknown }).spec ?? null }))
    .sort();
  const secretTexts = [...secrets].map(([name, s]) => canonical({ name, type: s.type, data: s.data ?? {} })).sort();
  return `metallb:${createHash('sha256').update(JSON.stringify([specs, secretTexts])).digest('hex')}`;
}

function toObject(js: PlainObject, contents: Node | undefined): MetalLbObject {
  const kind = String(js.kind);
  const name = typeof js.metadata?.name === 'string' ? js.metadata.name : '(no name)';
  const labels = js.metadata?.labels;
  const plainLabels: Record<string, string> = {};
  if (labels && typeof labels === 'object') {
    for (const [key, value] of Object.entries(labels as Record<string, unknown>)) if (typeof value === 'string') plainLabels[key] = value;
  }
  return {
    kind: kind as MetalLbObject['kind'],
    apiVersion: String(js.apiVersion),
    name,
    labels: plainLabels,
    root: { path: `${kind}/${name}`, node: contents },
  };
}

function secretView(js: PlainObject): SecretView {
  const data = js.data && typeof js.data === 'object' ? (js.data as Record<string, unknown>) : {};
  const strings: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) if (typeof value === 'string') strings[key] = value;
  // A file may carry stringData, which the API server folds into data.
  const stringData = (js as { stringData?: unknown }).stringData;
  if (stringData && typeof stringData === 'object') {
    for (const [key, value] of Object.entries(stringData as Record<string, unknown>)) {
      if (typeof value === 'string') strings[key] = Buffer.from(value, 'utf8').toString('base64');
    }
  }
  return { type: typeof js.type === 'string' ? js.type : undefined, data: strings };
}
