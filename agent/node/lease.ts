import { ApiError, microTime, type Logger, type RestClient } from '../../apimachinery/index.ts';

/**
 * The node's heartbeat: a Lease in kube-node-lease renewed every
 * `renewIntervalMs` (the kubelet renews every 10 s, a quarter of 40 s).
 */
export class NodeLease {
  #client: RestClient;
  #nodeName: string;
  #durationSeconds: number;
  #log: Logger;
  #nodeUid: string | undefined;

  constructor(client: RestClient, nodeName: string, durationSeconds: number, log: Logger) {
    this.#client = client;
    this.#nodeName = nodeName;
    this.#durationSeconds = durationSeconds;
    this.#log = log;
  }

  setOwner(nodeUid: string | undefined): void {
    this.#nodeUid = nodeUid;
  }

  async renew(): Promise<void> {
    const ref = { group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease', name: this.#nodeName };
    const spec = { holderIdentity: this.#nodeName, leaseDurationSeconds: this.#durationSeconds, renewTime: microTime() };
    try {
      await this.#client.patch(ref, { spec }, 'merge');
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
      const ownerReferences = this.#nodeUid ? [{ apiVersion: 'v1', kind: 'Node', name: this.#nodeName, uid: this.#nodeUid }] : undefined;
      await this.#client.create(
        { group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease' },
        {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.#nodeName, namespace: 'kube-node-lease', ownerReferences },
          spec,
        },
      );
      this.#log.info('created node lease');
    }
  }
}
