// Finding the config inside what a user hands us: the bare config YAML, or a ConfigMap
// manifest (one document or several) whose `data.config` holds it.
import { isScalar, LineCounter, parseAllDocuments } from 'yaml';
import type { Node } from 'yaml';
import { parseConfig } from './parse.js';
import type { ParseResult } from './types.js';
import { syntaxIssues } from './yaml-reader.js';

/** The ConfigMap vipcast reads its config from. */
export const configMapRef = { namespace: 'vipcast-system', name: 'vipcast-config', key: 'config' } as const;

/** A parse result for a file, naming what was read (`ConfigMap ns/name` or `config`). */
export type FileParseResult = ParseResult & { readonly resource: string; readonly notes: readonly string[] };

/** Parses a file holding either a bare config or a ConfigMap manifest that carries one. */
export function parseConfigFile(text: string): FileParseResult {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  const syntax = list.flatMap((doc) => syntaxIssues(doc.errors, text, (offset) => lines.linePos(offset).line));
  if (syntax.length > 0) return { ok: false, errors: syntax, warnings: [], resource: 'file', notes: [] };

  const objects = list.map((doc) => doc.toJS() as unknown).filter(isKubernetesObject);
  if (objects.length === 0) return { ...parseConfig(text), resource: 'config', notes: [] };

  const candidates = list.filter((doc) => {
    const js = doc.toJS() as unknown;
    return isKubernetesObject(js) && js.kind === 'ConfigMap' && typeof js.data?.[configMapRef.key] === 'string';
  });
  const chosen = candidates.find((doc) => (doc.toJS() as KubernetesObject).metadata?.name === configMapRef.name) ?? candidates[0];
  if (!chosen) {
    const message = `no ConfigMap with a "data.${configMapRef.key}" key found among ${objects.length} Kubernetes object(s)`;
    return { ok: false, errors: [{ path: '', line: undefined, message }], warnings: [], resource: 'file', notes: [] };
  }
  const object = chosen.toJS() as KubernetesObject;
  const namespace = object.metadata?.namespace ?? '(no namespace)';
  const name = object.metadata?.name ?? '(no name)';
  const notes: string[] = [];
  if (namespace !== configMapRef.namespace || name !== configMapRef.name) {
    notes.push(`vipcast reads ConfigMap ${configMapRef.namespace}/${configMapRef.name}; this file's is ${namespace}/${name}`);
  }
  const valueNode = chosen.getIn(['data', configMapRef.key], true) as Node | undefined;
  // Only a literal block scalar (`config: |`) keeps the file's line breaks one for one.
  const lineOffset =
    valueNode && isScalar(valueNode) && valueNode.type === 'BLOCK_LITERAL' && valueNode.range
      ? lines.linePos(valueNode.range[0]).line
      : undefined;
  const value = object.data?.[configMapRef.key];
  const configText = typeof value === 'string' ? value : '';
  return { ...parseConfig(configText, { lineOffset }), resource: `ConfigMap ${namespace}/${name}`, notes };
}

interface KubernetesObject {
  kind: string;
  metadata?: { name?: string; namespace?: string };
  data?: Record<string, unknown>;
}

function isKubernetesObject(value: unknown): value is KubernetesObject {
  return typeof value === 'object' && value !== null && 'kind' in value && 'apiVersion' in value;
}

