// Structure-aware mutations of YAML config documents, for fuzzing the config parser: a
// seed config is parsed to a YAML tree, edited the way people (and attackers) get configs
// wrong, and written back out as text.
import fc from 'fast-check';
import { Alias, isMap, isSeq, Pair, parseDocument, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import type { Document, Node } from 'yaml';

/** Keys the parser knows, so that inserted keys often reach its deeper checks. */
const knownKeys = [
  'address-pools', 'peers', 'bgp-communities', 'bfd-profiles', 'name', 'protocol', 'addresses',
  'auto-assign', 'avoid-buggy-ips', 'bgp-advertisements', 'aggregation-length', 'aggregation-length-v6',
  'localpref', 'communities', 'namespaces', 'namespace-selectors', 'service-selectors', 'interfaces',
  'node-selectors', 'match-labels', 'match-expressions', 'key', 'operator', 'values', 'peer-address',
  'peer-asn', 'my-asn', 'peer-port', 'hold-time', 'keepalive-time', 'router-id', 'source-address',
  'password', 'ebgp-multihop', 'bfd-profile', 'pools', 'receive-interval', 'transmit-interval',
  'detect-multiplier', 'echo-interval', 'echo-mode', 'passive-mode', 'minimum-ttl', 'cidr', '<<', 'kind',
];

/** Scalars near the edges of what the parser accepts. */
const scalars = fc.oneof(
  fc.constantFrom(
    '', 'true', 'no', 'yes', 'null', '~', '0', '-1', '1.5', '4294967296', '65536', '255', '254',
    '10.0.0.0/24', '10.0.0.7/33', '2001:db8::/64', '10.0.0.9-10.0.0.1', '::1', '1.2.3.4', 'layer2', 'bgp',
    'In', 'NotIn', 'Exists', '64500:1', 'large:1:2:3', 'no-export', '90s', '1m30s', '0s', 'x'.repeat(300), 'ünï', '*a', '&a', '#',
  ),
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -5, max: 70_000 }),
  fc.boolean(),
  fc.constant(null),
);

/** Plain values of any YAML kind: scalars, lists and mappings, a little nested. */
const values: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalars,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...knownKeys, 'extra'), tie('value'), { maxKeys: 3 }),
  ),
})).value;

/** One edit; numbers pick a node or a place, modulo how many there are. */
export type Mutation =
  | { readonly op: 'replace'; readonly at: number; readonly value: unknown }
  | { readonly op: 'drop' | 'duplicateKey' | 'duplicateItem'; readonly at: number }
  | { readonly op: 'insertKey'; readonly at: number; readonly key: string; readonly value: unknown }
  | { readonly op: 'alias'; readonly at: number; readonly target: number; readonly wellFormed: boolean }
  | { readonly op: 'undefinedAlias'; readonly at: number }
  | { readonly op: 'nest'; readonly at: number; readonly depth: number; readonly asMap: boolean }
  | { readonly op: 'bomb'; readonly at: number; readonly width: number; readonly levels: number }
  | { readonly op: 'tag'; readonly at: number; readonly tag: string };

const at = fc.nat();
/** The edits: other kinds of value, missing and repeated keys, aliases, deep nesting, tags. */
export const mutations: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('replace' as const), at, value: values }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constantFrom('drop' as const, 'duplicateKey' as const, 'duplicateItem' as const), at }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('insertKey' as const), at, key: fc.constantFrom(...knownKeys), value: values }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('alias' as const), at, target: fc.nat(), wellFormed: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('undefinedAlias' as const), at }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('nest' as const), at, depth: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 40 }), weight: 9 }, { arbitrary: fc.constant(600), weight: 1 }), asMap: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('bomb' as const), at, width: fc.integer({ min: 2, max: 10 }), levels: fc.integer({ min: 1, max: 7 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('tag' as const), at, tag: fc.constantFrom('!!str', '!!int', '!!bool', '!!binary', '!!map', '!!seq', '!!set', '!local') }), weight: 1 },
);

/** Edits of the written text, now and then: cut it short, or splice in a fragment of YAML syntax. */
export const textEdits = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 4 },
  {
    arbitrary: fc.record({ at: fc.nat(), cut: fc.boolean(), insert: fc.constantFrom('\n', ': ', '- ', '[', '}', '"', "'", '&x ', '*x', '\t', '? ', '---\n', '%YAML 1.1\n', '|\n', '#', '\u0000') }),
    weight: 1,
  },
);

/** A place in the tree: a node and how to replace it. */
interface Site {
  readonly node: unknown;
  readonly set: (node: unknown) => void;
}

/** Every value of the tree, in document order (capped, to keep edits cheap). */
function sitesOf(doc: Document): Site[] {
  const out: Site[] = [];
  const stack: Site[] = [{ node: doc.contents, set: (n) => { doc.contents = n as Node; } }];
  while (stack.length > 0 && out.length < 2000) {
    const site = stack.pop() as Site;
    out.push(site);
    const { node } = site;
    const children: Site[] = [];
    if (isSeq(node)) node.items.forEach((item, k) => children.push({ node: item, set: (n) => { node.items[k] = n; } }));
    if (isMap(node)) for (const pair of node.items) children.push({ node: pair.value, set: (n) => { pair.value = n; } });
    stack.push(...children.reverse());
  }
  return out;
}

function pick<T>(items: readonly T[], n: number): T | undefined {
  return items.length === 0 ? undefined : items[n % items.length];
}

let anchorCount = 0;

function apply(doc: Document, m: Mutation): void {
  const sites = sitesOf(doc);
  const site = pick(sites, m.at);
  if (!site) return;
  const { node } = site;
  switch (m.op) {
    case 'replace':
      site.set(doc.createNode(m.value));
      return;
    case 'drop':
      if (isMap(node) && node.items.length > 0) node.items.splice(m.at % node.items.length, 1);
      else if (isSeq(node) && node.items.length > 0) node.items.splice(m.at % node.items.length, 1);
      return;
    case 'duplicateKey': {
      const pair = isMap(node) ? pick(node.items, m.at) : undefined;
      if (isMap(node) && pair) node.items.push(new Pair(cloneOf(pair.key), cloneOf(pair.value)));
      return;
    }
    case 'duplicateItem': {
      const item = isSeq(node) ? pick(node.items, m.at) : undefined;
      if (isSeq(node) && item !== undefined) node.items.push(cloneOf(item));
      return;
    }
    case 'insertKey':
      if (isMap(node)) node.items.push(new Pair(new Scalar(m.key), doc.createNode(m.value)));
      return;
    case 'alias': {
      // Well formed: the anchor on an earlier value that does not contain the alias;
      // otherwise anywhere, which makes forward references and cycles too.
      const target = (m.wellFormed ? pick(sites.slice(0, sites.indexOf(site)).filter((s) => !contains(s.node, node)), m.target) : pick(sites, m.target))?.node;
      if (!(target instanceof Scalar || target instanceof YAMLMap || target instanceof YAMLSeq)) return;
      target.anchor ??= `a${++anchorCount}`;
      site.set(new Alias(target.anchor));
      return;
    }
    case 'undefinedAlias':
      site.set(new Alias('nope'));
      return;
    case 'nest':
      // Written as text after the tree is printed: the printer would indent every level.
      site.set(new Scalar(`NEST${m.depth}${m.asMap ? 'm' : 's'}`));
      return;
    case 'bomb': {
      // &bN [*bN-1, *bN-1, ...]: each level multiplies the values by `width`.
      const chain = new YAMLSeq();
      chain.flow = true;
      const name = `b${++anchorCount}_`;
      const base = new YAMLSeq();
      base.items.push(new Scalar('x'));
      base.anchor = `${name}0`;
      chain.items.push(base);
      for (let level = 1; level <= m.levels; level++) {
        const next = new YAMLSeq();
        next.anchor = `${name}${level}`;
        for (let k = 0; k < m.width; k++) next.items.push(new Alias(`${name}${level - 1}`));
        chain.items.push(next);
      }
      chain.items.push(new Alias(`${name}${m.levels}`));
      site.set(chain);
      return;
    }
    case 'tag':
      if (node instanceof Scalar || node instanceof YAMLMap || node instanceof YAMLSeq) node.tag = m.tag;
      return;
  }
}

/** Whether `inner` is `outer` or inside it. */
function contains(outer: unknown, inner: unknown): boolean {
  if (outer === inner) return true;
  if (isSeq(outer)) return outer.items.some((item) => contains(item, inner));
  if (isMap(outer)) return outer.items.some((pair) => contains(pair.key, inner) || contains(pair.value, inner));
  return false;
}

function cloneOf(node: unknown): unknown {
  return node && typeof node === 'object' && 'clone' in node && typeof node.clone === 'function' ? (node.clone as () => unknown)() : node;
}

/** Applies the edits to a seed config and writes it out (the seed itself if writing fails). */
export function mutate(seed: string, edits: readonly Mutation[], text: { at: number; cut: boolean; insert: string } | undefined): string {
  const doc = parseDocument(seed);
  for (const edit of edits) apply(doc, edit);
  let out: string;
  try {
    out = doc.toString({ verifyAliasOrder: false });
  } catch {
    out = seed;
  }
  out = out.replace(/NEST(\d+)([ms])/g, (_all, depth: string, kind: string) =>
    kind === 'm' ? `${'{k: '.repeat(Number(depth))}x${'}'.repeat(Number(depth))}` : `${'['.repeat(Number(depth))}x${']'.repeat(Number(depth))}`);
  if (!text) return out;
  const where = text.at % (out.length + 1);
  return text.cut ? out.slice(0, where) : out.slice(0, where) + text.insert + out.slice(where);
}
