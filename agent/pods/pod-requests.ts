/** What the pod workers do for the agent's other parts. */
export interface PodRequestTarget {
  /** sync the pod again (a probe result changed, a token is due, a ConfigMap it reads changed) */
  resync(uid: string): void;
  /** run an action in the pod's own worker, between its syncs (a liveness kill) */
  act(uid: string, action: () => Promise<void>): void;
}

/**
 * The one way the prober, the token cache and the source watches ask for
 * work on a pod, as the kubelet's sync loop takes them from its channels.
 * Those parts are built before the pod workers (the workers' syncer needs
 * the prober), so they hold this channel and the workers serve it once they
 * exist; a request before then has no pod to act on and is dropped.
 */
export class PodRequests implements PodRequestTarget {
  #target: PodRequestTarget | undefined;

  servedBy(target: PodRequestTarget): void {
    this.#target = target;
  }

  resync(uid: string): void {
    this.#target?.resync(uid);
  }

  act(uid: string, action: () => Promise<void>): void {
    this.#target?.act(uid, action);
  }
}
