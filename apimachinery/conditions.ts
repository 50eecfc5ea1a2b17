/**
 * A condition's lastTransitionTime as Kubernetes keeps it: the previous one
 * while the status stays what it was, `now` when it flips (or is new).
 */
export function transitionTime(prev: { status?: string; lastTransitionTime?: string } | undefined, status: string, now: string): string {
  return prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
}
