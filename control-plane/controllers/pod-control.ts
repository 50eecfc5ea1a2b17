import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { deleteExact, type ControllerContext } from './context.ts';

interface Owner {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string };
}

/** Creates a pod from an owner's template (named, or generated from a prefix) and records SuccessfulCreate on the owner. */
export async function createPodFromTemplate(
  ctx: ControllerContext,
  owner: Owner,
  ref: OwnerReference,
  template: PodTemplateSpec,
  extra: {
    generateName: string;
    name?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    env?: { name: string; value: string }[];
  },
): Promise<Pod> {
  const spec = structuredClone(template.spec ?? { containers: [] });
  if (extra.env?.length) {
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) c.env = [...(c.env ?? []), ...(extra.env ?? [])];
  }
  const pod = await ctx.client.create<Pod>(
    { resource: 'pods', namespace: owner.metadata?.namespace },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...(extra.name ? { name: extra.name } : { generateName: extra.generateName }),
        labels: { ...template.metadata?.labels, ...extra.labels },
        annotations: template.metadata?.annotations || extra.annotations ? { ...template.metadata?.annotations, ...extra.annotations } : undefined,
        finalizers: template.metadata?.finalizers,
        ownerReferences: [ref],
      },
      spec,
    },
  );
  ctx.events.event(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata?.name}`);
  return pod;
}

/**
 * Deletes a pod on its owner's behalf (only that incarnation of it) and
 * records SuccessfulDelete, or FailedDelete for errors other than the pod
 * being gone already. Resolves with whether this call deleted it.
 */
export async function deleteOwnedPod(ctx: ControllerContext, owner: Owner, pod: Pod): Promise<boolean> {
  try {
    if (!(await deleteExact(ctx.client, { resource: 'pods', namespace: pod.metadata?.namespace }, pod))) return false;
    ctx.events.event(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name}`);
    return true;
  } catch (err) {
    ctx.events.event(owner, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
    return false;
  }
}
