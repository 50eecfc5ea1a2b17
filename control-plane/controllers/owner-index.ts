import { objectKey, type Informer, type KubeObject } from '../../apimachinery/index.ts';

interface WithOwners extends KubeObject {
  metadata?: KubeObject['metadata'] & { ownerReferences?: { uid: string; controller?: boolean }[] };
}

/** Where objects without a controller are kept, per namespace (no uid looks like this). */
const orphansOf = (namespace: string | undefined) => `orphans/${namespace ?? ''}`;
const hasController = (o: WithOwners) => (o.metadata?.ownerReferences ?? []).some((r) => r.controller === true);

/**
 * The objects of one informer grouped by the uid of each owner they name, kept
 * current from the informer's events, so "the pods of this ReplicaSet" is a
 * lookup rather than a scan of every pod.
 */
export class OwnerIndex<T extends WithOwners> {
  #informer: Informer<T>;
  #byOwner = new Map<string, Set<string>>();

  constructor(informer: Informer<T>) {
    this.#informer = informer;
    informer.addHandlers({
      onAdd: (o) => this.#add(o),
      onUpdate: (old, o) => {
        this.#remove(old);
        this.#add(o);
      },
      onDelete: (o) => this.#remove(o),
    });
  }

  #groups(o: T): string[] {
    return [...(o.metadata?.ownerReferences ?? []).map((r) => r.uid), ...(hasController(o) ? [] : [orphansOf(o.metadata?.namespace)])];
  }

  #add(o: T): void {
    const key = objectKey(o);
    for (const group of this.#groups(o)) {
      let keys = this.#byOwner.get(group);
      if (!keys) this.#byOwner.set(group, (keys = new Set()));
      keys.add(key);
    }
  }

  #remove(o: T): void {
    const key = objectKey(o);
    for (const group of this.#groups(o)) {
      const keys = this.#byOwner.get(group);
      keys?.delete(key);
      if (keys?.size === 0) this.#byOwner.delete(group);
    }
  }

  /** The objects of a namespace no controller holds: what a controller whose selector matches may adopt. */
  orphans(namespace: string | undefined): T[] {
    return this.dependents(orphansOf(namespace));
  }

  /** The objects naming this owner uid among their ownerReferences. */
  dependents(ownerUid: string | undefined): T[] {
    if (!ownerUid) return [];
    const out: T[] = [];
    for (const key of this.#byOwner.get(ownerUid) ?? []) {
      const o = this.#informer.get(key);
      if (o) out.push(o);
    }
    return out;
  }
}
