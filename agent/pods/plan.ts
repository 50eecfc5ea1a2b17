import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { latestByName, type ObservedContainer, type ObservedPod } from './observed.ts';

export interface ContainerStart {
  name: string;
  attempt: number;
  init: boolean;
  /** an ephemeral container (kubectl debug): started once, never restarted */
  ephemeral?: boolean;
  /** the exited container this one replaces (its finish time drives back-off) */
  previous?: ObservedContainer;
}

/** What one sync must do for a pod that should run, computed from desired and observed state. */
export interface PodActions {
  /** stop every container and the sandbox before anything else (the sandbox is gone or changed) */
  killPod: boolean;
  createSandbox: boolean;
  sandboxAttempt: number;
  /** the ready sandbox to use when none is created */
  sandboxId: string;
  containersToStart: ContainerStart[];
  /** containers to stop and remove (left half-made, or unknown) */
  containersToKill: ObservedContainer[];
  /** an init container failed and the restart policy is Never: the pod has failed */
  initFailed: boolean;
  /** the init container running now, whose exit the pod waits for */
  initRunning?: ObservedContainer;
}

/** An init container with restartPolicy Always: a sidecar that runs alongside the pod's containers. */
export function isSidecar(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

function shouldRestart(pod: Pod, c: ObservedContainer): boolean {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return c.exitCode !== 0;
  return false;
}

/**
 * The kubelet's computePodActions, reduced to what skiff runs today: a
 * sandbox, init containers one at a time in order (sidecars started and kept
 * running), then every container, restarted according to restartPolicy.
 * Pure: the executor carries it out.
 */
export function computePodActions(pod: Pod, observed: ObservedPod): PodActions {
  const sandbox = observed.sandboxes[0];
  const hostNetwork = pod.spec?.hostNetwork === true;
  const sandboxUsable = !!sandbox && sandbox.state === 'SANDBOX_READY' && (hostNetwork || sandbox.ip !== '');
  const latest = latestByName(observed.containers);
  const initContainers = pod.spec?.initContainers ?? [];
  const containers = pod.spec?.containers ?? [];
  const policy = pod.spec?.restartPolicy ?? 'Always';

  const actions: PodActions = {
    killPod: false,
    createSandbox: false,
    sandboxAttempt: 0,
    sandboxId: sandboxUsable ? sandbox.id : '',
    containersToStart: [],
    containersToKill: [],
    initFailed: false,
  };

  if (!sandboxUsable) {
    // a pod that never restarts and already ran its containers does not get a new sandbox
    const ranBefore = containers.some((c) => latest.has(c.name));
    if (sandbox && policy === 'Never' && ranBefore) return actions;
    actions.killPod = !!sandbox;
    actions.createSandbox = true;
    actions.sandboxAttempt = sandbox ? sandbox.attempt + 1 : 0;
    // everything starts again in the new sandbox, init containers first
    const first = initContainers[0];
    if (first) {
      const prev = latest.get(first.name);
      actions.containersToStart.push({ name: first.name, attempt: prev ? prev.attempt + 1 : 0, init: true });
    } else {
      for (const c of containers) {
        const prev = latest.get(c.name);
        if (prev && prev.state === 'CONTAINER_EXITED' && !shouldRestart(pod, prev)) continue;
        actions.containersToStart.push({ name: c.name, attempt: prev ? prev.attempt + 1 : 0, init: false });
      }
    }
    return actions;
  }

  for (const c of observed.containers) {
    if (c.sandboxId === sandbox.id && (c.state === 'CONTAINER_CREATED' || c.state === 'CONTAINER_UNKNOWN') && latest.get(c.name)?.id === c.id) {
      actions.containersToKill.push(c);
    }
  }
  const killed = new Set(actions.containersToKill.map((c) => c.id));

  // init containers: the first one not yet succeeded in this sandbox runs next; a sidecar
  // (restartPolicy Always) counts as done once running, and is restarted whenever it exits
  for (const ic of initContainers) {
    const prev = latest.get(ic.name);
    const inThisSandbox = prev && prev.sandboxId === sandbox.id;
    if (isSidecar(ic)) {
      if (inThisSandbox && prev.state === 'CONTAINER_RUNNING') continue;
      const restart = inThisSandbox && prev.state === 'CONTAINER_EXITED' && !killed.has(prev.id);
      actions.containersToStart.push({
        name: ic.name,
        attempt: prev ? prev.attempt + (prev && killed.has(prev.id) ? 0 : 1) : 0,
        init: true,
        ...(restart ? { previous: prev } : {}),
      });
      return actions;
    }
    if (inThisSandbox && prev.state === 'CONTAINER_EXITED' && prev.exitCode === 0) continue;
    if (inThisSandbox && prev.state === 'CONTAINER_RUNNING') {
      actions.initRunning = prev;
      return actions;
    }
    if (inThisSandbox && prev.state === 'CONTAINER_EXITED' && !killed.has(prev.id)) {
      if (policy === 'Never') {
        actions.initFailed = true;
        return actions;
      }
      actions.containersToStart.push({ name: ic.name, attempt: prev.attempt + 1, init: true, previous: prev });
      return actions;
    }
    actions.containersToStart.push({ name: ic.name, attempt: prev ? prev.attempt + (killed.has(prev.id) ? 0 : 1) : 0, init: true });
    return actions;
  }

  for (const c of containers) {
    const prev = latest.get(c.name);
    if (!prev) {
      actions.containersToStart.push({ name: c.name, attempt: 0, init: false });
    } else if (killed.has(prev.id)) {
      actions.containersToStart.push({ name: c.name, attempt: prev.attempt, init: false });
    } else if (prev.state === 'CONTAINER_EXITED' && shouldRestart(pod, prev)) {
      actions.containersToStart.push({ name: c.name, attempt: prev.attempt + 1, init: false, previous: prev });
    }
  }
  // ephemeral containers (kubectl debug) start once, beside the others, and are never restarted
  for (const e of pod.spec?.ephemeralContainers ?? []) {
    if (!latest.has(e.name)) actions.containersToStart.push({ name: e.name, attempt: 0, init: false, ephemeral: true });
  }
  return actions;
}

/** How long after its start an init container's exit is looked for by the pod itself; past that the relist tells. */
const INIT_EXIT_POLL_MS = 1000;
const INIT_EXIT_POLL_FIRST_MS = 50;

/**
 * When to look again for a running init container's exit: many finish in
 * moments, so soon after their start, each look twice as late as the last
 * (its age), then none (undefined): the once-a-second relist notices.
 */
export function initExitPoll(c: ObservedContainer, now: number): number | undefined {
  const age = now - Math.floor((c.startedAt || c.createdAt) / 1e6);
  return age < INIT_EXIT_POLL_MS ? Math.max(INIT_EXIT_POLL_FIRST_MS, age) : undefined;
}
