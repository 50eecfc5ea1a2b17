import type { Container, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import { rfc3339, transitionTime } from '../../apimachinery/index.ts';
import { latestByName, previousOf, type ObservedContainer, type ObservedPod } from './observed.ts';
import { isSidecar } from './plan.ts';

/** A reason a container is waiting that only the agent knows (pull errors, back-off…). */
export interface Waiting {
  reason: string;
  message?: string;
}

export interface StatusInputs {
  pod: Pod;
  observed: ObservedPod;
  /** container name → why it waits, set by the last sync */
  waiting: ReadonlyMap<string, Waiting>;
  hostIP: string;
  /** runtime name for containerID URIs ("containerd") */
  runtimeName: string;
  /** an init container failed under restartPolicy Never */
  initFailed?: boolean;
  /** the pod is being stopped for good: nothing will restart */
  terminating?: boolean;
  /** container id → termination message read from its terminationMessagePath (or log) */
  terminationMessages?: ReadonlyMap<string, string>;
  /** what readiness and startup probes say of a running container (undefined: it has none) */
  probes?: { ready(container: Container, containerId: string): boolean | undefined; started(container: Container, containerId: string): boolean | undefined };
  now?: Date;
}

const fromNanos = (ns: number) => rfc3339(new Date(Math.floor(ns / 1e6)));

function terminatedOf(c: ObservedContainer, runtimeName: string, messages?: ReadonlyMap<string, string>) {
  const message = messages?.get(c.id) || c.message;
  return {
    exitCode: c.exitCode,
    reason: c.reason || (c.exitCode === 0 ? 'Completed' : 'Error'),
    ...(message ? { message } : {}),
    ...(c.startedAt ? { startedAt: fromNanos(c.startedAt) } : {}),
    finishedAt: fromNanos(c.finishedAt || c.createdAt),
    containerID: `${runtimeName}://${c.id}`,
  };
}

function willRestart(pod: Pod, spec: Container, c: ObservedContainer, terminating: boolean): boolean {
  if (terminating) return false;
  const policy = spec.restartPolicy ?? pod.spec?.restartPolicy ?? 'Always';
  return policy === 'Always' || (policy === 'OnFailure' && c.exitCode !== 0);
}

function containerStatus(spec: Container, inputs: StatusInputs, init: boolean, defaultWaiting: string): ContainerStatus {
  const { observed, runtimeName, pod } = inputs;
  const latest = latestByName(observed.containers).get(spec.name);
  const waiting = inputs.waiting.get(spec.name);
  const base = { name: spec.name, image: latest?.image || spec.image || '', imageID: latest?.imageRef ?? '', restartCount: latest?.attempt ?? 0 };
  if (!latest) {
    return {
      ...base,
      ready: false,
      started: false,
      state: { waiting: { reason: waiting?.reason ?? defaultWaiting, ...(waiting?.message ? { message: waiting.message } : {}) } },
    };
  }
  const containerID = `${runtimeName}://${latest.id}`;
  const prev = previousOf(observed.containers, latest);
  const lastState = prev && prev.state === 'CONTAINER_EXITED' ? { terminated: terminatedOf(prev, runtimeName, inputs.terminationMessages) } : {};
  switch (latest.state) {
    case 'CONTAINER_RUNNING':
      return {
        ...base,
        containerID,
        ready: (!init || isSidecar(spec)) && (inputs.probes?.ready(spec, latest.id) ?? true),
        started: inputs.probes?.started(spec, latest.id) ?? true,
        state: { running: { startedAt: fromNanos(latest.startedAt) } },
        lastState,
      };
    case 'CONTAINER_EXITED': {
      const terminated = terminatedOf(latest, runtimeName, inputs.terminationMessages);
      const succeededInit = init && !isSidecar(spec) && latest.exitCode === 0;
      if (!succeededInit && willRestart(pod, spec, latest, !!inputs.terminating) && waiting) {
        return {
          ...base,
          containerID,
          ready: false,
          started: false,
          state: { waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } },
          lastState: { terminated },
        };
      }
      return { ...base, containerID, ready: succeededInit, started: false, state: { terminated }, lastState };
    }
    default:
      return {
        ...base,
        containerID,
        ready: false,
        started: false,
        state: { waiting: { reason: waiting?.reason ?? defaultWaiting, ...(waiting?.message ? { message: waiting.message } : {}) } },
        lastState,
      };
  }
}

/** The pod phase from its container statuses, as the kubelet's getPhase decides it. */
export function podPhase(pod: Pod, statuses: ContainerStatus[], initDone: boolean, initFailed: boolean, terminating: boolean): PodStatus['phase'] {
  const current = pod.status?.phase;
  if (current === 'Succeeded' || current === 'Failed') return current;
  if (initFailed) return 'Failed';
  if (!initDone) return 'Pending';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of statuses) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState?.terminated) stopped++;
    else waiting++;
  }
  const policy = terminating ? 'Never' : (pod.spec?.restartPolicy ?? 'Always');
  if (waiting > 0) return terminating && running === 0 ? (succeeded === stopped && stopped > 0 ? 'Succeeded' : 'Failed') : 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(pod: Pod, type: string, ok: boolean, reason: string | undefined, message: string | undefined, now: Date): PodCondition {
  const status = ok ? 'True' : 'False';
  const prev = pod.status?.conditions?.find((c) => c.type === type);
  return {
    type,
    status,
    lastProbeTime: null as unknown as string,
    lastTransitionTime: transitionTime(prev, status, rfc3339(now)),
    ...(!ok && reason ? { reason } : {}),
    ...(!ok && message ? { message } : {}),
  };
}

/**
 * Why each of the pod's readiness gates keeps it from being Ready: the
 * condition the gate names is missing or not True (others, such as a load
 * balancer controller, set those conditions on the pod's status).
 */
function unmetReadinessGates(pod: Pod): string[] {
  return (pod.spec?.readinessGates ?? []).flatMap(({ conditionType }) => {
    const c = pod.status?.conditions?.find((x) => x.type === conditionType);
    if (!c) return [`corresponding condition of pod readiness gate "${conditionType}" does not exist.`];
    return c.status === 'True' ? [] : [`the status of pod readiness gate "${conditionType}" is not "True", but ${c.status}`];
  });
}

/** The pod's status as this agent sees it (PodScheduled is the scheduler's and is left out). */
export function computePodStatus(inputs: StatusInputs): PodStatus {
  const { pod, observed } = inputs;
  const now = inputs.now ?? new Date();
  const initSpecs = pod.spec?.initContainers ?? [];
  const initStatuses = initSpecs.map((c) => containerStatus(c, inputs, true, 'PodInitializing'));
  // init containers are done when each succeeded, or (sidecars) is running
  const initFinished = (s: ContainerStatus, i: number) => (isSidecar(initSpecs[i] as Container) ? !!s.state?.running : s.state?.terminated?.exitCode === 0);
  const initDone = initStatuses.every(initFinished);
  const statuses = (pod.spec?.containers ?? []).map((c) => containerStatus(c, inputs, false, initDone ? 'ContainerCreating' : 'PodInitializing'));
  const phase = podPhase(pod, statuses, initDone, !!inputs.initFailed, !!inputs.terminating);
  const sandbox = observed.sandboxes[0];
  // a pod on the host's network has the host's address, as the kubelet reports it
  const podIP = (pod.spec?.hostNetwork ? inputs.hostIP : sandbox?.ip) || pod.status?.podIP || '';
  const sandboxReady = sandbox?.state === 'SANDBOX_READY';

  const incompleteInit = initStatuses.filter((s, i) => !initFinished(s, i)).map((s) => s.name);
  const unready = [...initStatuses.filter((s, i) => isSidecar(initSpecs[i] as Container) && !s.ready), ...statuses.filter((s) => !s.ready)].map((s) => s.name);
  const completed = phase === 'Succeeded';
  const containersReady = unready.length === 0 && !completed && phase === 'Running';
  const notReadyReason = completed ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMessage = completed ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  const closedGates = containersReady ? unmetReadinessGates(pod) : [];
  const conditions = [
    condition(pod, 'PodReadyToStartContainers', sandboxReady, undefined, undefined, now),
    condition(
      pod,
      'Initialized',
      incompleteInit.length === 0,
      completed ? 'PodCompleted' : 'ContainersNotInitialized',
      completed ? undefined : `containers with incomplete status: [${incompleteInit.join(' ')}]`,
      now,
    ),
    closedGates.length
      ? condition(pod, 'Ready', false, 'ReadinessGatesNotReady', closedGates.join(', '), now)
      : condition(pod, 'Ready', containersReady, notReadyReason, notReadyMessage, now),
    condition(pod, 'ContainersReady', containersReady, notReadyReason, notReadyMessage, now),
  ];
  return {
    phase,
    conditions,
    hostIP: inputs.hostIP,
    hostIPs: [{ ip: inputs.hostIP }],
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: pod.status?.startTime ?? rfc3339(now),
    ...(initSpecs.length ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
    // ephemeral containers are reported, and count for neither the phase nor readiness
    ...(pod.spec?.ephemeralContainers?.length
      ? { ephemeralContainerStatuses: pod.spec.ephemeralContainers.map((c) => containerStatus(c as Container, inputs, false, 'ContainerCreating')) }
      : {}),
    ...(pod.status?.qosClass ? { qosClass: pod.status.qosClass } : {}),
  };
}
