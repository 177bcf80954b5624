// Typed reading of a YAML document that records every problem with its YAML path and line,
// instead of stopping at the first. The config parser is written on top of this.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Alias, Document, Node, Scalar, YAMLError } from 'yaml';
import type { ConfigIssue } from './types.js';
import { didYouMean } from './suggest.js';
import { checkAliases } from './yaml-aliases.js';
import { joinKey } from './yaml-path.js';

/** The YAML 1.1 merge key, which go-yaml expanded and vipcast refuses with a clear error. */
const mergeKey = '<<';

/** A node of the document together with its YAML path; `node` is undefined when absent. */
export interface Field {
  readonly path: string;
  readonly node: Node | undefined;
  /** For a mapping entry, the key's node (to point at the key rather than its value). */
  readonly keyNode?: Node | undefined;
}

/** Collects issues for one document and maps source offsets to lines. */
export class Reader {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];

  /**
   * @param aliases what each alias of the document names (see checkAliases)
   * @param lines maps offsets in the parsed text to lines
   * @param lineOffset added to every line (the text may start inside a larger file), or
   *   undefined when lines in the text do not correspond to lines of the file
   */
  constructor(
    private readonly aliases: ReadonlyMap<Alias, Node>,
    private readonly lines: LineCounter,
    private readonly lineOffset: number | undefined,
  ) {}

  /** The 1-based line of a field in the file, when known. */
  lineOf(field: Field): number | undefined {
    const start = field.node?.range?.[0];
    return this.lineAt(start);
  }

  /** The 1-based line of an offset in the parsed text, when known. */
  lineAt(offset: number | undefined): number | undefined {
    if (offset === undefined || this.lineOffset === undefined) return undefined;
    return this.lines.linePos(offset).line + this.lineOffset;
  }

  /** Records an error at a field. */
  error(field: Field, message: string): void {
    this.errors.push({ path: field.path, line: this.lineOf(field), message });
  }

  /** Records a warning at a field. */
  warn(field: Field, message: string): void {
    this.warnings.push({ path: field.path, line: this.lineOf(field), message });
  }

  /** Follows a YAML alias (`*name`) to the node it names. */
  resolve(node: Node | undefined): Node | undefined {
    if (node && isAlias(node)) return this.aliases.get(node);
    return node;
  }

  /** Whether a field is absent or written as null (`key:` with nothing after it). */
  isEmpty(field: Field): boolean {
    const node = this.resolve(field.node);
    return node === undefined || (isScalar(node) && node.value === null);
  }

  /**
   * Reads a mapping whose keys must be among `known`. Unknown keys are errors with a
   * did-you-mean. Returns the present, non-null entries, or undefined if not a mapping.
   */
  map(field: Field, known: readonly string[], what: string): Map<string, Field> | undefined {
    const entries = this.anyMap(field, what);
    if (!entries) return undefined;
    for (const [key, entry] of entries) {
      if (key === mergeKey && !known.includes(key)) {
        this.error(entry.keyField, `YAML merge keys ("<<") are not supported in ${what}; write the keys out`);
        entries.delete(key);
      } else if (!known.includes(key)) {
        this.error(entry.keyField, `unknown key "${key}" in ${what}${didYouMean(key, known)}`);
        entries.delete(key);
      }
    }
    const out = new Map<string, Field>();
    for (const [key, entry] of entries) if (!this.isEmpty(entry.value)) out.set(key, { ...entry.value, keyNode: entry.keyField.node });
    return out;
  }

  /** Reads a mapping with arbitrary string keys (labels, aliases). */
  anyMap(field: Field, what: string): Map<string, { keyField: Field; value: Field }> | undefined {
    const node = this.resolve(field.node);
    if (this.isEmpty(field)) return new Map();
    if (!node || !isMap(node)) {
      this.error(field, `${what} must be a mapping of keys to values`);
      return undefined;
    }
    const out = new Map<string, { keyField: Field; value: Field }>();
    for (const pair of node.items) {
      const keyNode = this.resolve(pair.key as Node | undefined);
      const key = keyNode && isScalar(keyNode) ? String(keyNode.value) : undefined;
      if (key === undefined) {
        this.error({ path: field.path, node: keyNode ?? node }, `${what} has a key that is not a plain string`);
        continue;
      }
      const path = joinKey(field.path, key);
      out.set(key, { keyField: { path, node: keyNode }, value: { path, node: (pair.value as Node | null) ?? undefined } });
    }
    return out;
  }

  /** Reads a sequence; null or absent reads as empty, anything else is an error. */
  list(field: Field, what: string): Field[] {
    const node = this.resolve(field.node);
    if (this.isEmpty(field)) return [];
    if (!node || !isSeq(node)) {
      this.error(field, `${what} must be a list`);
      return [];
    }
    return node.items.map((item, i) => ({ path: `${field.path}[${i}]`, node: (item as Node | null) ?? undefined }));
  }

  /** Reads a scalar as the text written (so `password: 0123` stays "0123"). */
  string(field: Field, what: string): string | undefined {
    const node = this.resolve(field.node);
    if (!node || !isScalar(node) || node.value === null) {
      this.error(field, `${what} must be a single value, not ${describe(node)}`);
      return undefined;
    }
    return scalarText(node);
  }

  /** Reads a boolean; accepts YAML 1.1 spellings (yes/no/on/off) as MetalLB's parser did. */
  boolean(field: Field, what: string): boolean | undefined {
    const node = this.resolve(field.node);
    if (node && isScalar(node) && typeof node.value === 'boolean') return node.value;
    const text = node && isScalar(node) && node.value !== null ? scalarText(node) : undefined;
    if (text !== undefined && /^(y|yes|on)$/i.test(text)) return true;
    if (text !== undefined && /^(n|no|off)$/i.test(text)) return false;
    this.error(field, `${what} must be true or false, not ${text === undefined ? describe(node) : JSON.stringify(text)}`);
    return undefined;
  }

  /** Reads a whole number in [min, max]. */
  integer(field: Field, what: string, min: number, max: number): number | undefined {
    const node = this.resolve(field.node);
    const text = node && isScalar(node) && node.value !== null ? scalarText(node).trim() : undefined;
    if (text === undefined || !/^[0-9]+$/.test(text)) {
      this.error(field, `${what} must be a whole number, not ${text === undefined ? describe(node) : JSON.stringify(text)}`);
      return undefined;
    }
    const value = Number(text);
    if (value < min || value > max) {
      this.error(field, `${what} ${text} is out of range (${min} to ${max})`);
      return undefined;
    }
    return value;
  }

  /** Reads a list of strings, each with its own field for precise errors. */
  stringItems(field: Field, what: string): { field: Field; value: string }[] {
    const out: { field: Field; value: string }[] = [];
    for (const item of this.list(field, what)) {
      const value = this.string(item, `each entry of ${what}`);
      if (value !== undefined) out.push({ field: item, value });
    }
    return out;
  }

  /** Reads a list of strings. */
  strings(field: Field, what: string): string[] {
    return this.stringItems(field, what).map((item) => item.value);
  }
}

/** The text of a scalar as written (plain scalars) or as its value (quoted ones). */
function scalarText(node: Scalar): string {
  if (node.type === 'PLAIN' && typeof node.source === 'string') return node.source;
  const value: unknown = node.value;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ? String(value) : '';
}

function describe(node: Node | undefined): string {
  if (node === undefined || (isScalar(node) && node.value === null)) return 'empty';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  return 'a value';
}

/** A parsed YAML text with its reader, or the syntax errors that stopped it. */
export interface ParsedYaml {
  readonly reader: Reader;
  readonly root: Field;
}

/**
 * Parses YAML text; syntax errors and refused aliases are recorded in the reader with their
 * lines (when there are any, nothing else should be read).
 */
export function parseYaml(text: string, lineOffset: number | undefined): ParsedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const lineAt = (offset: number): number | undefined => (lineOffset === undefined ? undefined : lines.linePos(offset).line + lineOffset);
  const { issues, aliases } = documentIssues(doc, text, lineAt);
  const reader = new Reader(aliases, lines, lineOffset);
  reader.errors.push(...issues);
  return { reader, root: { path: '', node: (doc.contents as Node | null) ?? undefined } };
}

/**
 * Everything that stops a YAML document from being read at all: its syntax errors, else
 * its refused aliases. The config parser and the file reader both judge documents by this.
 */
export function documentIssues(doc: Document, text: string, lineAt: (offset: number) => number | undefined): { issues: ConfigIssue[]; aliases: ReadonlyMap<Alias, Node> } {
  const syntax = syntaxIssues(doc.errors, text, lineAt);
  if (syntax.length > 0) return { issues: syntax, aliases: new Map() };
  const { issues, targets } = checkAliases(doc, lineAt);
  return { issues: [...issues], aliases: targets };
}

/** Turns the YAML library's errors into issues with lines. */
export function syntaxIssues(errors: readonly YAMLError[], text: string, lineAt: (offset: number) => number | undefined): ConfigIssue[] {
  return errors.map((e) => {
    // The library marks only the key's first character; the key runs to its colon.
    const key = (text.slice(e.pos[0]).split('\n')[0] ?? '').split(':')[0]?.trim().replace(/^["']|["']$/g, '');
    const message = e.code === 'DUPLICATE_KEY' ? `key "${key}" appears twice in the same mapping` : `YAML syntax: ${e.message}`;
    return { path: '', line: lineAt(e.pos[0]), message };
  });
}
