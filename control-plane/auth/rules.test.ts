import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forbidden } from './attributes.ts';
import { ruleAllows } from './rules.ts';
import { StaticTokenFile } from './token-authenticators.ts';

describe('RBAC rules', () => {
  const pods = { kind: 'resource', verb: 'get', apiGroup: '', resource: 'pods', namespace: 'default', name: 'web' } as const;

  it('matches verbs, groups, resources, subresources and names as rbac/v1 does', () => {
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, pods)).toBe(true);
    expect(ruleAllows({ verbs: ['list'], apiGroups: [''], resources: ['pods'] }, pods)).toBe(false);
    expect(ruleAllows({ verbs: ['*'], apiGroups: ['apps'], resources: ['*'] }, pods)).toBe(false);
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['db'] }, pods)).toBe(false);
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, { ...pods, subresource: 'log' })).toBe(false);
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['*/log'] }, { ...pods, subresource: 'log' })).toBe(true);
  });

  it('matches non-resource URLs exactly or by a trailing *', () => {
    const rule = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
    expect(ruleAllows(rule, { kind: 'nonResource', verb: 'get', path: '/apis/apps/v1' })).toBe(true);
    expect(ruleAllows(rule, { kind: 'nonResource', verb: 'get', path: '/healthz/etcd' })).toBe(false);
    expect(ruleAllows(rule, pods)).toBe(false);
  });

  it('words Forbidden errors as kube-apiserver does', () => {
    expect(forbidden('jane', pods).message).toBe('pods "web" is forbidden: User "jane" cannot get resource "pods" in API group "" in the namespace "default"');
    expect(forbidden('jane', { kind: 'resource', verb: 'list', apiGroup: 'apps', resource: 'deployments', subresource: 'scale' }).message).toBe(
      'deployments/scale.apps is forbidden: User "jane" cannot list resource "deployments/scale" in API group "apps" at the cluster scope',
    );
    expect(forbidden('system:anonymous', { kind: 'nonResource', verb: 'get', path: '/api' }).message).toBe(
      'forbidden: User "system:anonymous" cannot get path "/api"',
    );
  });

  it('reads a static token file with quoted group lists', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sk-tokens-'));
    try {
      await writeFile(join(dir, 't.csv'), '# admins\nt1,alice,1,"a,b"\nt2,bob,,\n');
      const file = await StaticTokenFile.load(join(dir, 't.csv'));
      expect(await file.authenticate('t1')).toEqual({ user: { name: 'alice', uid: '1', groups: ['a', 'b'] } });
      expect(await file.authenticate('t2')).toEqual({ user: { name: 'bob', uid: undefined, groups: [] } });
      expect(await file.authenticate('t3')).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
