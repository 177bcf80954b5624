// YAML anchors (`&name`) and aliases (`*name`): resolved once, before the config is read.
// vipcast accepts an alias that names an earlier anchor, as go-yaml (and so MetalLB) did,
// and refuses with a located error an alias whose anchor is missing or comes later, one
// inside the very value it names (infinite), and aliases that would repeat more than
// `maxAliasExpansion` values in all (an "alias bomb"). Reading cost is then bounded by the
// text's size plus that limit, whatever the text.
import { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Alias, Document, Node } from 'yaml';
import type { ConfigIssue } from './types.js';
import { joinKey } from './yaml-path.js';

/** The most values that aliases may add to a document, beyond those written out. */
export const maxAliasExpansion = 10_000;

/** The outcome of checking a document's aliases. */
export interface AliasCheck {
  /** What each alias names; only aliases that are allowed appear. */
  readonly targets: ReadonlyMap<Alias, Node>;
  /** Why aliases were refused, each at the alias's YAML path and line. */
  readonly issues: readonly ConfigIssue[];
}

interface Frame {
  readonly node: unknown;
  readonly path: string;
  /** Whether the node's children have been pushed (second visit: its size is known). */
  expanded: boolean;
  children: Frame[];
}

/**
 * Resolves every alias of a document in document order (the last anchor of that name
 * before the alias, as YAML 1.2 section 3.2.2.2 says) without recursion, so that deep
 * nesting cannot exhaust the stack.
 */
export function checkAliases(doc: Document, lineAt: (offset: number) => number | undefined): AliasCheck {
  const targets = new Map<Alias, Node>();
  const issues: ConfigIssue[] = [];
  const anchors = new Map<string, Node>();
  const open = new Set<unknown>();
  const sizes = new Map<unknown, number>();
  let added = 0;
  let bombReported = false;
  const issue = (alias: Alias, path: string, message: string): void => {
    issues.push({ path, line: alias.range ? lineAt(alias.range[0]) : undefined, message });
  };

  const stack: Frame[] = [{ node: doc.contents, path: '', expanded: false, children: [] }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    const { node } = frame;
    if (frame.expanded) {
      stack.pop();
      open.delete(node);
      sizes.set(node, Math.min(Number.MAX_SAFE_INTEGER, 1 + frame.children.reduce((sum, child) => sum + (sizes.get(child.node) ?? 1), 0)));
      continue;
    }
    frame.expanded = true;
    if (isAlias(node)) {
      stack.pop();
      const target = anchors.get(node.source);
      if (target === undefined) {
        issue(node, frame.path, `alias "*${node.source}" names no earlier anchor: write "&${node.source}" on a value before it, or write the value out`);
      } else if (open.has(target)) {
        issue(node, frame.path, `alias "*${node.source}" is inside the value anchored "&${node.source}" that it names, which would make that value infinite`);
      } else {
        targets.set(node, target);
        const size = sizes.get(target) ?? 1;
        sizes.set(node, size);
        added = Math.min(Number.MAX_SAFE_INTEGER, added + size - 1);
        if (added > maxAliasExpansion && !bombReported) {
          bombReported = true;
          issue(node, frame.path, `aliases up to "*${node.source}" repeat more than ${maxAliasExpansion} values, which looks like an alias bomb; write the values out`);
        }
      }
      continue;
    }
    if (node && (isScalar(node) || isMap(node) || isSeq(node)) && typeof node.anchor === 'string' && node.anchor !== '') {
      anchors.set(node.anchor, node);
    }
    open.add(node);
    frame.children = childrenOf(node, frame.path, anchors);
    for (let i = frame.children.length - 1; i >= 0; i--) stack.push(frame.children[i] as Frame);
  }
  return { targets, issues };
}

/** A node's children in document order: a mapping's keys and values, a list's items. */
function childrenOf(node: unknown, path: string, anchors: ReadonlyMap<string, Node>): Frame[] {
  const frame = (child: unknown, at: string): Frame => ({ node: child, path: at, expanded: false, children: [] });
  if (isSeq(node)) return node.items.map((item, i) => frame(item, `${path}[${i}]`));
  if (!isMap(node)) return [];
  const out: Frame[] = [];
  for (const pair of node.items) {
    if (!isPair(pair)) continue;
    const key = isAlias(pair.key) ? anchors.get(pair.key.source) : pair.key;
    const at = isScalar(key) ? joinKey(path, String(key.value)) : joinKey(path, '?');
    out.push(frame(pair.key, at), frame(pair.value, at));
  }
  return out;
}
