// How the lists of the built-in kinds merge, by field name: a list of
// objects with keys merges item by item (containers by name, ports by port
// and protocol), a set list merges its scalar values, every other list is
// atomic (replaced whole). Strategic merge patch and server-side apply read
// the same table.

const LIST_MAP_KEYS: Record<string, readonly string[]> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  env: ['name'],
  volumes: ['name'],
  volumeMounts: ['mountPath'],
  volumeDevices: ['devicePath'],
  ports: ['containerPort', 'port', 'protocol'],
  conditions: ['type'],
  imagePullSecrets: ['name'],
  tolerations: ['key'],
  addresses: ['type'],
  ownerReferences: ['uid'],
  hostAliases: ['ip'],
  resourceClaims: ['name'],
};

const SET_LISTS = new Set(['finalizers']);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export type ListType = { type: 'map'; key(item: Record<string, unknown>): string } | { type: 'set' } | { type: 'atomic' };

/** How `items`, the value of `field`, merges. */
export function listType(field: string, items: unknown[]): ListType {
  const keys = LIST_MAP_KEYS[field];
  if (keys && items.every(isObject)) {
    return {
      type: 'map',
      // the key fields an item has, as JSON (`{"containerPort":80,"protocol":"TCP"}`); protocol defaults to TCP
      key: (item) =>
        JSON.stringify(
          Object.fromEntries(keys.filter((k) => item[k] !== undefined || (k === 'protocol' && keys.length > 1)).map((k) => [k, item[k] ?? 'TCP'])),
        ),
    };
  }
  if (SET_LISTS.has(field) && items.every((v) => !isObject(v) && !Array.isArray(v))) return { type: 'set' };
  return { type: 'atomic' };
}

export { isObject };
