// Kubernetes label selectors: reading them from the config (either spelling of their keys)
// and matching labels against them.
import type { LabelSelector, SelectorRequirement } from './types.js';
import type { Field, Reader } from './yaml-reader.js';
import { didYouMean } from './suggest.js';
import { canonical, refuseRepeats } from './duplicates.js';

const operators = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
const namePart = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why a label key is invalid (Kubernetes qualified-name rules), or undefined if valid. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !dnsSubdomain.test(prefix))) {
    return `label key "${key}" has an invalid prefix (a DNS subdomain such as example.com is expected)`;
  }
  if (!namePart.test(name)) {
    return `label key "${key}" is invalid (up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`;
  }
  return undefined;
}

/** Why a label value is invalid, or undefined if valid (the empty value is valid). */
export function labelValueProblem(value: string): string | undefined {
  if (value === '' || namePart.test(value)) return undefined;
  return `label value "${value}" is invalid (up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`;
}

/**
 * How a selector's two keys are written: `match-labels` in vipcast's (and MetalLB's old)
 * ConfigMap, `matchLabels` in Kubernetes objects such as MetalLB's CRDs.
 */
export type SelectorSpelling = 'kebab' | 'camel';

const selectorKeys = {
  kebab: { labels: 'match-labels', expressions: 'match-expressions' },
  camel: { labels: 'matchLabels', expressions: 'matchExpressions' },
} as const;

/** Reads a list of selectors (`match-labels` / `match-expressions` entries, or camelCase). */
export function readSelectors(r: Reader, field: Field, what: string, spelling: SelectorSpelling = 'kebab'): LabelSelector[] {
  const out: { field: Field; value: LabelSelector }[] = [];
  for (const item of r.list(field, what)) {
    const selector = readSelector(r, item, `each entry of ${what}`, selectorKeys[spelling]);
    if (selector) out.push({ field: item, value: selector });
  }
  return refuseRepeats(r, out, selectorIdentity, () => 'this selector').map((entry) => entry.value);
}

/** What a selector selects, whatever the order its labels and expressions are written in. */
function selectorIdentity(selector: LabelSelector): string {
  const expressions = selector.matchExpressions.map(requirementIdentity).sort();
  return canonical({ labels: selector.matchLabels, expressions });
}

function requirementIdentity(requirement: SelectorRequirement): string {
  return canonical({ ...requirement, values: [...requirement.values].sort() });
}

/** Reads one selector; MetalLB's CRDs take the same selector as a single object too. */
export function readSelector(r: Reader, field: Field, what: string, keys: { readonly labels: string; readonly expressions: string } = selectorKeys.kebab): LabelSelector | undefined {
  const entries = r.map(field, [keys.labels, keys.expressions], what);
  if (!entries) return undefined;
  const matchLabels: Record<string, string> = {};
  const labelsField = entries.get(keys.labels);
  if (labelsField) {
    for (const [key, entry] of r.anyMap(labelsField, keys.labels) ?? []) {
      const value = r.string(entry.value, `the value of label "${key}"`);
      const problem = labelKeyProblem(key) ?? (value === undefined ? undefined : labelValueProblem(value));
      if (problem) r.error(entry.value, problem);
      else if (value !== undefined) matchLabels[key] = value;
    }
  }
  const requirements: { field: Field; value: SelectorRequirement }[] = [];
  const expressionsField = entries.get(keys.expressions);
  if (expressionsField) {
    for (const item of r.list(expressionsField, keys.expressions)) {
      const requirement = readRequirement(r, item, keys.expressions);
      if (requirement) requirements.push({ field: item, value: requirement });
    }
  }
  const matchExpressions = refuseRepeats(r, requirements, requirementIdentity, () => `this ${keys.expressions} entry`).map((entry) => entry.value);
  return { matchLabels, matchExpressions };
}

function readRequirement(r: Reader, field: Field, listKey: string): SelectorRequirement | undefined {
  const entries = r.map(field, ['key', 'operator', 'values'], `a ${listKey} entry`);
  if (!entries) return undefined;
  const keyField = entries.get('key');
  const operatorField = entries.get('operator');
  if (!keyField) r.error(field, `a ${listKey} entry needs a "key"`);
  if (!operatorField) r.error(field, `a ${listKey} entry needs an "operator" (${operators.join(', ')})`);
  const key = keyField && r.string(keyField, 'key');
  const keyProblem = key === undefined ? undefined : labelKeyProblem(key);
  if (keyField && keyProblem) r.error(keyField, keyProblem);
  const operatorText = operatorField && r.string(operatorField, 'operator');
  const operator = operators.find((o) => o === operatorText);
  if (operatorField && operatorText !== undefined && !operator) {
    r.error(operatorField, `unknown operator "${operatorText}" (${operators.join(', ')})${didYouMean(operatorText, operators)}`);
  }
  const valuesField = entries.get('values');
  const errorsBefore = r.errors.length;
  const valueItems = valuesField ? r.stringItems(valuesField, 'values') : [];
  for (const { field: at, value } of valueItems) {
    const problem = labelValueProblem(value);
    if (problem) r.error(at, problem);
  }
  const values = refuseRepeats(r, valueItems, (value) => value, (value) => `value "${value}"`).map((item) => item.value);
  if (operator === 'In' || operator === 'NotIn') {
    // Kubernetes requires at least one value for these; an empty list would match nothing
    // (In) or everything (NotIn), which is never what was meant.
    if (valuesField === undefined) r.error(field, `operator ${operator} needs a non-empty "values" list`);
    else if (valueItems.length === 0 && r.errors.length === errorsBefore) r.error(valuesField, `operator ${operator} needs a non-empty "values" list`);
  }
  if (operator && valuesField && (operator === 'Exists' || operator === 'DoesNotExist') && values.length > 0) {
    r.error(valuesField, `operator ${operator} takes no values`);
  }
  if (key === undefined || keyProblem || !operator) return undefined;
  return { key, operator, values };
}

/** Whether a set of labels satisfies a selector. */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    if (labels[key] !== value) return false;
  }
  return selector.matchExpressions.every((requirement) => requirementHolds(requirement, labels));
}

function requirementHolds(requirement: SelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const value = labels[requirement.key];
  switch (requirement.operator) {
    case 'In':
      return has && value !== undefined && requirement.values.includes(value);
    case 'NotIn':
      return !has || value === undefined || !requirement.values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

/** A selector in kubectl's `-l` syntax (`app=web,tier notin (cache,db),!legacy`). */
export function formatSelector(selector: LabelSelector): string {
  const labels = Object.entries(selector.matchLabels).map(([key, value]) => `${key}=${value}`);
  const expressions = selector.matchExpressions.map(({ key, operator, values }) => {
    switch (operator) {
      case 'In':
        return `${key} in (${values.join(',')})`;
      case 'NotIn':
        return `${key} notin (${values.join(',')})`;
      case 'Exists':
        return key;
      case 'DoesNotExist':
        return `!${key}`;
    }
  });
  const parts = [...labels, ...expressions];
  return parts.length === 0 ? '(everything)' : parts.join(',');
}

/** Whether labels satisfy any selector of a list; an empty list matches everything. */
export function anySelectorMatches(selectors: readonly LabelSelector[], labels: Readonly<Record<string, string>>): boolean {
  return selectors.length === 0 || selectors.some((s) => selectorMatches(s, labels));
}
