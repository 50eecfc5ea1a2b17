import type { Obj, ResourceInfo, TableColumn } from './resource-info.ts';
import { age } from './resources/age.ts';
import { NAME_COLUMN, AGE_COLUMN } from './resources/columns.ts';

const DEFAULT_COLUMNS: readonly TableColumn[] = [NAME_COLUMN, AGE_COLUMN];

/** Does the Accept header ask for a meta.k8s.io Table (as `kubectl get` does)? */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  const first = accept.split(',')[0] ?? '';
  return /as=Table/.test(first) && /g=meta\.k8s\.io/.test(first);
}

function tableVersion(accept: string | undefined): string {
  return /v=v1beta1/.test((accept ?? '').split(',')[0] ?? '') ? 'meta.k8s.io/v1beta1' : 'meta.k8s.io/v1';
}

function partialMetadata(obj: Obj) {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

/** Renders objects as a Table; includeObject decides what each row carries. */
export function toTable(
  info: ResourceInfo,
  objs: Obj[],
  opts: { accept?: string; includeObject?: string; resourceVersion?: string; continue?: string; columns?: boolean },
) {
  const columns = info.strategy?.columns ?? DEFAULT_COLUMNS;
  const cells = info.strategy?.cells ?? ((o: Obj) => [o.metadata.name, age(o.metadata.creationTimestamp)]);
  const include = opts.includeObject ?? 'Metadata';
  return {
    kind: 'Table',
    apiVersion: tableVersion(opts.accept),
    metadata: { resourceVersion: opts.resourceVersion, ...(opts.continue ? { continue: opts.continue } : {}) },
    columnDefinitions: opts.columns === false ? [] : columns,
    rows: objs.map((o) => ({
      cells: cells(o),
      ...(include === 'None' ? {} : { object: include === 'Object' ? o : partialMetadata(o) }),
    })),
  };
}
