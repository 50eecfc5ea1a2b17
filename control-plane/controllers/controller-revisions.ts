import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../apimachinery/index.ts';
import { deleteExact, type ControllerContext } from './context.ts';
import { controllerRef, isControlledBy } from './controller-ref.ts';
import { CONTROLLER_REVISIONS } from './shared-informers.ts';
import { podTemplateHash } from './template-hash.ts';

export const REVISION_HASH_LABEL = 'controller-revision-hash';

interface Owner {
  metadata?: { name?: string; namespace?: string; uid?: string };
  spec?: { template?: PodTemplateSpec; revisionHistoryLimit?: number };
}

export interface CurrentRevision {
  name: string;
  hash: string;
  revision: number;
}

/**
 * The ControllerRevision holding an owner's current pod template (what
 * `kubectl rollout history/undo` read for DaemonSets and StatefulSets):
 * found by hash, created as the next revision when new, renumbered as the
 * newest when an older template comes back; the oldest unused ones beyond
 * revisionHistoryLimit are deleted.
 */
export async function syncRevisions(ctx: ControllerContext, owner: Owner, kind: string, inUse: Set<string>): Promise<CurrentRevision> {
  const revisions = ctx.informers
    .ownerIndex<ControllerRevision>(CONTROLLER_REVISIONS)
    .dependents(owner.metadata?.uid)
    .filter((r) => isControlledBy(r, owner));
  const template = owner.spec?.template ?? {};
  const hash = podTemplateHash(template);
  const latest = Math.max(0, ...revisions.map((r) => r.revision));
  const ref = { ...CONTROLLER_REVISIONS, version: 'v1', namespace: owner.metadata?.namespace };
  let current = revisions.find((r) => r.metadata?.labels?.[REVISION_HASH_LABEL] === hash);
  if (!current) {
    const name = `${owner.metadata?.name}-${hash}`;
    try {
      current = await ctx.client.create<ControllerRevision>(ref, {
        apiVersion: 'apps/v1',
        kind: 'ControllerRevision',
        metadata: { name, labels: { ...template.metadata?.labels, [REVISION_HASH_LABEL]: hash }, ownerReferences: [controllerRef(owner, 'apps/v1', kind)] },
        data: { spec: { template: { ...template, $patch: 'replace' } } },
        revision: latest + 1,
      });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
      current = await ctx.client.get<ControllerRevision>({ ...ref, name });
    }
  } else if (current.revision < latest) {
    current = await ctx.client.patch<ControllerRevision>({ ...ref, name: current.metadata?.name }, { revision: latest + 1 }, 'merge');
  }
  const limit = owner.spec?.revisionHistoryLimit ?? 10;
  const old = revisions
    .filter((r) => r !== current && r.metadata?.name !== current?.metadata?.name && !inUse.has(r.metadata?.labels?.[REVISION_HASH_LABEL] ?? ''))
    .sort((a, b) => a.revision - b.revision);
  for (const r of old.slice(0, Math.max(old.length - limit, 0))) await deleteExact(ctx.client, ref, r);
  return { name: current.metadata?.name ?? '', hash, revision: current.revision };
}
