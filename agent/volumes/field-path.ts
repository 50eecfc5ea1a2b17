import type { Pod } from 'kubernetes-types/core/v1.js';

/**
 * A downward API metadata field of the pod: name, namespace, uid, labels and
 * annotations (all of them as key="value" lines, or one by key); undefined
 * for paths that are not metadata.
 */
export function podMetadataField(pod: Pod, path: string): string | undefined {
  const lines = (m: Record<string, string> | undefined) =>
    Object.entries(m ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}="${v}"`)
      .join('\n');
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'metadata.labels':
      return lines(pod.metadata?.labels);
    case 'metadata.annotations':
      return lines(pod.metadata?.annotations);
  }
  const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
  if (label) return pod.metadata?.labels?.[label[1] as string] ?? '';
  const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(path);
  if (annotation) return pod.metadata?.annotations?.[annotation[1] as string] ?? '';
  return undefined;
}
