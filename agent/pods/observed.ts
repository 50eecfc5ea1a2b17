import type { ContainerState, PodSandboxState } from '../cri/index.ts';

/** A container as the runtime reports it, for one pod. */
export interface ObservedContainer {
  id: string;
  name: string;
  attempt: number;
  sandboxId: string;
  state: ContainerState;
  /** nanoseconds since the epoch, 0 when not reached */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  image: string;
  imageRef: string;
  logPath: string;
}

export interface ObservedSandbox {
  id: string;
  attempt: number;
  state: PodSandboxState;
  createdAt: number;
  ip: string;
}

/** Everything the runtime holds for one pod, newest first. */
export interface ObservedPod {
  sandboxes: ObservedSandbox[];
  containers: ObservedContainer[];
}

export const EMPTY_OBSERVED: ObservedPod = { sandboxes: [], containers: [] };

/** The newest container of each name. */
export function latestByName(containers: ObservedContainer[]): Map<string, ObservedContainer> {
  const out = new Map<string, ObservedContainer>();
  for (const c of containers) {
    const cur = out.get(c.name);
    if (!cur || c.attempt > cur.attempt || (c.attempt === cur.attempt && c.createdAt > cur.createdAt)) out.set(c.name, c);
  }
  return out;
}

/** The newest container of `name` before `latest` (for lastState and `logs --previous`). */
export function previousOf(containers: ObservedContainer[], latest: ObservedContainer): ObservedContainer | undefined {
  return containers
    .filter((c) => c.name === latest.name && c.id !== latest.id && c.attempt <= latest.attempt)
    .sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt)[0];
}
