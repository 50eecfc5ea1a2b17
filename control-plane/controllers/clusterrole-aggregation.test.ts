import type { ClusterRole } from 'kubernetes-types/rbac/v1.js';
import { describe, expect, it } from 'vitest';
import { aggregatedRules } from './clusterrole-aggregation.ts';

const role = (name: string, labels: Record<string, string>, resources: string[], aggregates?: string): ClusterRole => ({
  metadata: { name, labels },
  rules: resources.map((r) => ({ verbs: ['get'], apiGroups: [''], resources: [r] })),
  ...(aggregates ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [aggregates]: 'true' } }] } } : {}),
});

describe('cluster role aggregation', () => {
  it('unions the rules of the roles the selectors match, in name order, each rule once, never its own', () => {
    const edit = role('edit', { 'aggregate-to-edit': 'true' }, ['stale'], 'aggregate-to-edit');
    const all = [
      edit,
      role('widgets-edit', { 'aggregate-to-edit': 'true' }, ['widgets', 'pods']),
      role('base-edit', { 'aggregate-to-edit': 'true' }, ['pods', 'secrets']),
      role('unrelated', { 'aggregate-to-view': 'true' }, ['nodes']),
    ];
    expect(aggregatedRules(edit, all).map((r) => r.resources?.[0])).toEqual(['pods', 'secrets', 'widgets']);
  });
});
