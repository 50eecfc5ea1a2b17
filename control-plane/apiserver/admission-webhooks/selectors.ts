import { fromObjectSelector, matchesLabels, type ObjectLabelSelector } from '../../../apimachinery/index.ts';
import type { WebhookAttributes } from './dispatcher.ts';

/** The object and namespace selectors of a webhook, or of an admission policy's match resources. */
export interface AdmissionSelectors {
  objectSelector?: ObjectLabelSelector;
  namespaceSelector?: ObjectLabelSelector;
}

/**
 * Whether a write passes both selectors, as kube-apiserver judges it for
 * webhooks and admission policies alike. A selector without requirements takes
 * every write. The object selector takes a write whose new or old object it
 * matches (so never one without an object, as CONNECT). The namespace selector
 * judges a Namespace by its own labels, any other cluster-scoped write not at
 * all, and a namespaced write by its namespace's labels (read only then).
 */
export async function selectorsMatch(s: AdmissionSelectors, a: WebhookAttributes): Promise<boolean> {
  const objectSelector = fromObjectSelector(s.objectSelector ?? {});
  const written = [a.object, a.oldObject].filter((o) => o !== undefined);
  if (objectSelector.length && !written.some((o) => matchesLabels(objectSelector, o.metadata?.labels))) return false;
  const namespaceSelector = fromObjectSelector(s.namespaceSelector ?? {});
  if (!namespaceSelector.length) return true;
  if (a.group === '' && a.resource === 'namespaces') return matchesLabels(namespaceSelector, (a.object ?? a.oldObject)?.metadata?.labels);
  return !a.namespaced || matchesLabels(namespaceSelector, await a.namespaceLabels());
}
