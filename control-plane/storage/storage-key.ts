/** Groups whose names carry no dot, told apart from core resources in a storage key. */
const UNDOTTED_GROUPS = new Set(['apps', 'batch', 'policy', 'autoscaling']);

/** The group and resource a storage key belongs to (/registry/secrets/ns/n, /registry/apps/deployments/ns/n). */
export function resourceOfKey(key: string): { group: string; resource: string } | undefined {
  const [, root, first, second] = key.split('/');
  if (root !== 'registry' || !first) return undefined;
  return first.includes('.') || UNDOTTED_GROUPS.has(first) ? { group: first, resource: second ?? '' } : { group: '', resource: first };
}
