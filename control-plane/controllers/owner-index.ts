import { objectKey, type Informer, type KubeObject } from '../../apimachinery/index.ts';

interface WithOwners extends KubeObject {
  metadata?: KubeObject['metadata'] & { ownerReferences?: { uid: string }[] };
}

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

  #add(o: T): void {
    const key = objectKey(o);
    for (const ref of o.metadata?.ownerReferences ?? []) {
      let keys = this.#byOwner.get(ref.uid);
      if (!keys) this.#byOwner.set(ref.uid, (keys = new Set()));
      keys.add(key);
    }
  }

  #remove(o: T): void {
    const key = objectKey(o);
    for (const ref of o.metadata?.ownerReferences ?? []) {
      const keys = this.#byOwner.get(ref.uid);
      keys?.delete(key);
      if (keys?.size === 0) this.#byOwner.delete(ref.uid);
    }
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
