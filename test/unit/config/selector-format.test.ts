// Selectors written as kubectl's -l takes them, as check-config's summary shows them.
import { describe, expect, it } from 'vitest';
import { formatSelector } from '../../../src/config/selector.js';

describe('formatSelector', () => {
  it('writes labels, then each operator in kubectl syntax', () => {
    const selector = formatSelector({
      matchLabels: { app: 'web', tier: 'front' },
      matchExpressions: [
        { key: 'zone', operator: 'In', values: ['a', 'b'] },
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['dev'] },
        { key: 'edge', operator: 'Exists', values: [] },
        { key: 'legacy', operator: 'DoesNotExist', values: [] },
      ],
    });
    expect(selector).toBe('app=web,tier=front,zone in (a,b),kubernetes.io/metadata.name notin (dev),edge,!legacy');
  });

  it('says so when a selector matches everything', () => {
    expect(formatSelector({ matchLabels: {}, matchExpressions: [] })).toBe('(everything)');
  });
});
