import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container, Pod, PodStatus, Secret } from 'kubernetes-types/core/v1.js';
import { isPodTerminal, podContainers, type Logger } from '../../apimachinery/index.ts';
import type { AuthConfig, ContainerRuntime, Mount, PodSandboxConfig } from '../cri/index.ts';
import { Backoff } from './backoff.ts';
import { ensureImage, type PodEvent } from './images.ts';
import { pullCredentials } from './pull-secrets.ts';
import { Slots } from './slots.ts';
import { describeHook, runHook, type Prober } from '../probes/index.ts';
import {
  EnvError,
  VolumeError,
  resolveEnvRefs,
  setUpVolumes,
  tearDownVolumes,
  type ClaimVolumes,
  type ObjectSource,
  type PreparedVolume,
  type ResolvedEnv,
} from '../volumes/index.ts';
import { latestByName, type ObservedContainer, type ObservedPod } from './observed.ts';
import { computePodActions, initExitPoll, isSidecar, type ContainerStart, type PodActions } from './plan.ts';
import { computePodStatus, type Waiting } from './pod-status.ts';
import { prepareTerminationMessage, readTerminationMessage } from './termination-message.ts';
import { RuntimeObserver } from './observe.ts';
import { runAsNonRootViolation } from './security-context.ts';
import type { PodCgroups } from '../stats/index.ts';
import { containerConfig, podLogDirectory, sandboxConfig, type PodEnvironment } from './runtime-config.ts';

/** What the agent remembers about a pod between syncs (the runtime holds the rest). */
export interface PodMemory {
  waiting: Map<string, Waiting>;
  initFailed: boolean;
  /** container id → the message it left when it exited (read once) */
  terminationMessages: Map<string, string>;
}

export function newPodMemory(): PodMemory {
  return { waiting: new Map(), initFailed: false, terminationMessages: new Map() };
}

/** Why a pod is to be synced again soon, and when. */
export interface Requeue {
  afterMs: number;
  reason: 'SandboxBackOff' | 'FailedCreatePodSandBox' | 'FailedMount' | 'ContainerBackOff' | 'NextContainerDue' | 'InitContainerRunning' | 'ActiveDeadline';
}

export interface SyncResult {
  status: PodStatus;
  /** sync again (a back-off ends, a container is due); none: at the next change or relist */
  requeue?: Requeue;
}

export interface PodSyncerDeps {
  cri: ContainerRuntime;
  env: PodEnvironment;
  runtimeName: string;
  /** per-pod state directory root (etc-hosts) */
  podsDir: string;
  events: (pod: Pod) => PodEvent;
  /** the containers' probes; none: every running container counts as ready */
  prober?: Prober;
  /** ConfigMaps and Secrets for volumes and env */
  objects: ObjectSource;
  /** persistentVolumeClaim volumes (CSI); none: pods with claims fail to mount */
  claims?: ClaimVolumes;
  /** the pod-level cgroups the sandboxes are placed in */
  cgroups: PodCgroups;
  /** told what a sync saw last when it left the pod with nothing more to do (the relister, so it does not report that state as a change) */
  settled?: (uid: string, observed: ObservedPod) => void;
  /** told how long each step of a start took (the start-up phase metrics) */
  phase?: (uid: string, phase: SyncPhase, seconds: number) => void;
  /** the CRI handler a pod's sandbox runs under (its RuntimeClass's; '' the runtime's default); throws for a class not known */
  runtimeHandler?: (pod: Pod) => Promise<string>;
  /** milliseconds since the epoch; the tests' own clock drives back-offs and grace periods */
  now?: () => number;
  log: Logger;
}

/** The steps of a start a sync times. */
export type SyncPhase = 'volumes' | 'sandbox' | 'pull' | 'create' | 'start';

const nanosToMs = (ns: number) => Math.floor(ns / 1e6);

type Settled<T> = { v: T } | { err: unknown };
/** A step started early and awaited later (or not at all): its failure waits to be looked at instead of going unhandled. */
const settle = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (v) => ({ v }),
    (err: unknown) => ({ err }),
  );
const unsettle = <T>(s: Settled<T>): T => {
  if ('err' in s) throw s.err;
  return s.v;
};
/** A pod whose volumes or env sources are missing is tried again this soon. */
const VOLUME_RETRY_MS = 2000;
/** After a failed postStart hook killed a container, look again this soon. */
const RESYNC_AFTER_HOOK_MS = 1000;

/** Nothing left to start, stop or create: what happens next comes from the containers themselves (or the API). */
const isSettled = (a: PodActions) => !a.killPod && !a.createSandbox && a.containersToStart.length === 0 && a.containersToKill.length === 0;

/** The event fieldPath naming a container: spec.containers{web}. */
function fieldPathOf(name: string, init: boolean, ephemeral = false): string {
  return `spec.${ephemeral ? 'ephemeralContainers' : init ? 'initContainers' : 'containers'}{${name}}`;
}

/** The spec of the container a start names: an init, app or ephemeral container (the last has the same shape). */
function specOf(pod: Pod, start: ContainerStart): Container | undefined {
  const list = start.ephemeral ? (pod.spec?.ephemeralContainers as Container[] | undefined) : start.init ? pod.spec?.initContainers : pod.spec?.containers;
  return list?.find((c) => c.name === start.name);
}

/**
 * Carries out one sync of a pod against the runtime: plan with
 * computePodActions, apply in the kubelet's order (sandbox, images, init
 * container, containers), then report status from a fresh observation.
 */
export class PodSyncer {
  #deps: PodSyncerDeps;
  #observer: RuntimeObserver;
  readonly crashBackoff = new Backoff();
  readonly imageBackoff = new Backoff();
  /** volume set-ups running at once, across pods */
  readonly #volumeSlots = new Slots(4);
  readonly sandboxBackoff = new Backoff(1_000, 60_000);
  /** per pod being removed, why its sandbox would not go the last time (an Event says each cause once) */
  readonly #removalFailures = new Map<string, string>();

  readonly #now: () => number;

  constructor(deps: PodSyncerDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#observer = new RuntimeObserver(deps.cri);
  }

  /** Runs one step of a start and, when it works, tells how long it took. */
  async #timed<T>(uid: string, phase: SyncPhase, step: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await step();
    this.#deps.phase?.(uid, phase, (performance.now() - started) / 1000);
    return result;
  }

  observe(uid: string): Promise<ObservedPod> {
    return this.#observer.observe(uid);
  }

  #statusOf(pod: Pod, observed: ObservedPod, memory: PodMemory, terminating = false): PodStatus {
    const uid = pod.metadata?.uid ?? '';
    const prober = this.#deps.prober;
    const probes = prober && {
      ready: (c: Container, id: string) => prober.ready(uid, c, id),
      started: (c: Container, id: string) => prober.started(uid, c, id),
    };
    return computePodStatus({
      pod,
      observed,
      waiting: memory.waiting,
      hostIP: this.#deps.env.hostIP,
      runtimeName: this.#deps.runtimeName,
      initFailed: memory.initFailed,
      terminating,
      probes,
      terminationMessages: memory.terminationMessages,
    });
  }

  async sync(pod: Pod, memory: PodMemory): Promise<SyncResult> {
    const { cri, env, log } = this.#deps;
    const event = this.#deps.events(pod);
    const uid = pod.metadata?.uid ?? '';
    if (isPodTerminal(pod)) {
      this.#deps.prober?.remove(uid);
      return { status: await this.#stopTerminal(pod, await this.observe(uid), memory) };
    }
    // the pod's data directories come first, as the kubelet makes them: a node whose disk is full says so on the pod
    await mkdir(join(this.#deps.podsDir, uid, 'volumes'), { recursive: true }).catch((err: Error) => {
      event('Warning', 'Failed', `error making pod data directories: ${err.message}`);
      throw err;
    });
    // what a new sandbox needs (its log directory and pod cgroup, both kept as they are if present);
    // for a pod without an address yet, whose first sandbox is about to be made, it is made while
    // the runtime is asked what the pod has, for others only when a sandbox is due
    const makeSandboxDirs = () => settle(Promise.all([mkdir(podLogDirectory(pod, env.podLogsDir), { recursive: true }), this.#deps.cgroups.ensure(pod)]));
    const earlyDirs = pod.status?.podIP ? undefined : makeSandboxDirs();
    let observed = await this.observe(uid);

    const actions = computePodActions(pod, observed);
    memory.initFailed = actions.initFailed;
    let requeue: Requeue | undefined;
    const retry = (ms: number | undefined, reason: Requeue['reason']) => {
      if (ms !== undefined && ms > 0 && (requeue === undefined || ms < requeue.afterMs)) requeue = { afterMs: ms, reason };
    };

    if (actions.killPod) {
      event('Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      await this.#killAll(pod, observed, 0);
    }
    for (const c of actions.containersToKill) {
      // a container that cannot be removed now is removed by the next sync's dead-container pass
      await cri.removeContainer(c.id).catch(() => undefined);
    }
    this.#observer.forget(actions.containersToKill.map((c) => c.id));

    let sandboxId = actions.sandboxId;
    // volumes are only needed by the containers: they are set up while the sandbox starts
    // (a few pods at a time: a burst setting up every pod's volumes at once costs the agent ~50 MB of heap at 110 pods)
    const volumesReady = settle(
      this.#volumeSlots.run(() => this.#timed(uid, 'volumes', () => setUpVolumes(pod, join(this.#deps.podsDir, uid), this.#deps.objects, this.#deps.claims))),
    );
    // and so are the files the new containers' termination messages go to
    const messageFiles = settle(Promise.all(actions.containersToStart.map((c) => prepareTerminationMessage(join(this.#deps.podsDir, uid), c.name, c.attempt))));
    const sbConfig = sandboxConfig(pod, actions.sandboxAttempt, env);
    sbConfig.linux = { ...sbConfig.linux, cgroupParent: this.#deps.cgroups.parentOf(pod) };
    if (actions.createSandbox) {
      const key = `${uid}/sandbox`;
      const remaining = this.sandboxBackoff.remaining(key, this.#now());
      if (remaining > 0) {
        await Promise.all([volumesReady, messageFiles, earlyDirs]);
        return { status: this.#statusOf(pod, observed, memory), requeue: { afterMs: remaining, reason: 'SandboxBackOff' } };
      }
      try {
        unsettle(await (earlyDirs ?? makeSandboxDirs()));
        const handler = (await this.#deps.runtimeHandler?.(pod)) ?? '';
        sandboxId = await this.#timed(uid, 'sandbox', () => cri.runPodSandbox(sbConfig, handler));
        this.sandboxBackoff.reset(key);
      } catch (err) {
        const message = (err as Error).message.replace(/^CRI RunPodSandbox: /, '');
        event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${message}`);
        log.warn({ pod: pod.metadata?.name, err: message }, 'sandbox creation failed');
        await Promise.all([volumesReady, messageFiles]);
        return {
          status: this.#statusOf(pod, observed, memory),
          requeue: { afterMs: this.sandboxBackoff.next(key, this.#now()), reason: 'FailedCreatePodSandBox' },
        };
      }
      observed = await this.#observer.withNewSandbox(uid, observed, sandboxId);
    } else if (sandboxId) {
      sbConfig.metadata.attempt = observed.sandboxes[0]?.attempt ?? 0;
    }
    await earlyDirs;
    const prepared = await volumesReady;
    const files = unsettle(await messageFiles);
    if (!sandboxId) return { status: this.#statusOf(pod, observed, memory) };
    if ('err' in prepared) {
      if (!(prepared.err instanceof VolumeError)) throw prepared.err;
      event('Warning', 'FailedMount', prepared.err.message);
      return { status: this.#statusOf(pod, observed, memory), requeue: { afterMs: VOLUME_RETRY_MS, reason: 'FailedMount' } };
    }
    const volumes = prepared.v;
    const podIP = observed.sandboxes[0]?.ip ?? '';
    const mounts = await this.#podMounts(pod, podIP);

    // an ephemeral container's target shares its process namespace (kubectl debug --target): the running container of that name
    const runningBefore = new Map(observed.containers.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => [c.name, c.id]));
    for (const [i, start] of actions.containersToStart.entries()) {
      const target = start.ephemeral
        ? runningBefore.get((specOf(pod, start) as { targetContainerName?: string } | undefined)?.targetContainerName ?? '')
        : undefined;
      retry(
        await this.#startContainer(pod, start, { sandboxId, sbConfig, podIP, mounts, volumes, messageFile: files[i] as string, memory, event, target }),
        'ContainerBackOff',
      );
    }
    observed = await this.observe(uid);
    await this.#readTerminationMessages(pod, observed, memory);
    await this.#removeDeadContainers(observed, memory);
    const running = new Map([...latestByName(observed.containers)].filter(([, c]) => c.state === 'CONTAINER_RUNNING').map(([name, c]) => [name, c.id]));
    this.#deps.prober?.update(pod, podIP, running);
    const status = this.#statusOf(pod, observed, memory);
    const next = computePodActions(pod, observed);
    if (status.phase === 'Succeeded' || status.phase === 'Failed') {
      await this.#stopSandboxes(observed);
    } else if (isSettled(next)) {
      this.#deps.settled?.(uid, observed);
      if (next.initRunning) retry(initExitPoll(next.initRunning, this.#now()), 'InitContainerRunning');
    } else if (next.containersToStart.some((c) => !actions.containersToStart.some((s) => s.name === c.name && s.init === c.init))) {
      // what these starts made possible (a sidecar up: the next container) is due now, not at the next relist
      requeue = { afterMs: 0, reason: 'NextContainerDue' };
    }
    return { status, ...(requeue ? { requeue } : {}) };
  }

  /** Starts one container; returns when the pod should be synced again if it could not. */
  async #startContainer(
    pod: Pod,
    start: ContainerStart,
    ctx: {
      sandboxId: string;
      sbConfig: PodSandboxConfig;
      podIP: string;
      mounts: Mount[];
      volumes: Map<string, PreparedVolume>;
      messageFile: string;
      memory: PodMemory;
      event: PodEvent;
      /** (ephemeral) the running container whose process namespace it joins */
      target?: string;
    },
  ): Promise<number | undefined> {
    const { cri } = this.#deps;
    const uid = pod.metadata?.uid ?? '';
    const spec = specOf(pod, start) as Container;
    const fieldPath = fieldPathOf(start.name, start.init, start.ephemeral);
    const key = `${uid}/${start.name}`;
    const now = this.#now();
    if (start.previous) {
      const finished = nanosToMs(start.previous.finishedAt || start.previous.createdAt);
      if (this.crashBackoff.inBackoffSince(key, finished, now)) {
        const delay = this.crashBackoff.delay(key, now);
        ctx.memory.waiting.set(start.name, {
          reason: 'CrashLoopBackOff',
          message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${start.name} pod=${pod.metadata?.name}_${pod.metadata?.namespace}(${uid})`,
        });
        ctx.event(
          'Warning',
          'BackOff',
          `Back-off restarting failed container ${start.name} in pod ${pod.metadata?.name}_${pod.metadata?.namespace}(${uid})`,
          fieldPath,
        );
        return delay - (now - finished);
      }
      this.crashBackoff.next(key, now);
    }
    const credentials = () => this.#pullCredentials(pod, spec.image ?? '', ctx.event);
    const image = await ensureImage({
      cri,
      pod,
      container: spec,
      sandbox: ctx.sbConfig,
      backoff: this.imageBackoff,
      event: ctx.event,
      fieldPath,
      credentials,
      now: this.#now,
    });
    if ('waiting' in image) {
      ctx.memory.waiting.set(start.name, image.waiting);
      return image.retryAfterMs;
    }
    if (image.pullSeconds !== undefined) this.#deps.phase?.(uid, 'pull', image.pullSeconds);
    let resolvedEnv: ResolvedEnv;
    try {
      resolvedEnv = await resolveEnvRefs(pod, spec, this.#deps.objects);
    } catch (err) {
      if (!(err instanceof EnvError)) throw err;
      ctx.memory.waiting.set(start.name, { reason: 'CreateContainerConfigError', message: err.message });
      ctx.event('Warning', 'Failed', `Error: ${err.message}`, fieldPath);
      return VOLUME_RETRY_MS;
    }
    const nonRoot = await this.#nonRootViolation(pod, spec, image.imageRef);
    if (nonRoot) {
      ctx.memory.waiting.set(start.name, { reason: 'CreateContainerConfigError', message: nonRoot });
      ctx.event('Warning', 'Failed', `Error: ${nonRoot}`, fieldPath);
      return VOLUME_RETRY_MS;
    }
    const mounts = [
      ...ctx.mounts,
      { containerPath: spec.terminationMessagePath ?? '/dev/termination-log', hostPath: ctx.messageFile, readonly: false },
      ...(spec.volumeMounts ?? []).flatMap((m) => {
        const v = ctx.volumes.get(m.name);
        return v
          ? [{ containerPath: m.mountPath, hostPath: m.subPath ? join(v.hostPath, m.subPath) : v.hostPath, readonly: (m.readOnly ?? false) || v.readOnly }]
          : [];
      }),
    ];
    let id: string;
    try {
      id = await this.#timed(uid, 'create', () =>
        cri.createContainer(
          ctx.sandboxId,
          containerConfig({
            pod,
            container: spec,
            attempt: start.attempt,
            imageRef: image.imageRef,
            env: this.#deps.env,
            podIP: ctx.podIP,
            mounts,
            resolvedEnv,
            targetContainerId: ctx.target,
          }),
          ctx.sbConfig,
        ),
      );
    } catch (err) {
      const message = (err as Error).message.replace(/^CRI CreateContainer: /, '');
      ctx.memory.waiting.set(start.name, { reason: 'CreateContainerError', message });
      ctx.event('Warning', 'Failed', `Error: ${message}`, fieldPath);
      return this.crashBackoff.next(key, this.#now());
    }
    ctx.event('Normal', 'Created', `Created container: ${start.name}`, fieldPath);
    try {
      await this.#timed(uid, 'start', () => cri.startContainer(id));
    } catch (err) {
      const message = (err as Error).message.replace(/^CRI StartContainer: /, '');
      ctx.memory.waiting.set(start.name, { reason: 'RunContainerError', message });
      ctx.event('Warning', 'Failed', `Error: ${message}`, fieldPath);
      return this.crashBackoff.delay(key, this.#now()) || this.crashBackoff.next(key, this.#now());
    }
    ctx.memory.waiting.delete(start.name);
    ctx.event('Normal', 'Started', `Started container ${start.name}`, fieldPath);
    const postStart = spec.lifecycle?.postStart;
    if (postStart) {
      const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
      const result = await runHook(
        postStart,
        { podIP: ctx.podIP, container: spec, containerId: id, execSync: (cid, cmd, t) => cri.execSync(cid, cmd, t) },
        grace,
      );
      if (!result.ok) {
        // as the kubelet does: a failed postStart hook kills the container, which restarts per policy
        ctx.event(
          'Warning',
          'FailedPostStartHook',
          `${describeHook(postStart)} for Container "${start.name}" in Pod "${pod.metadata?.name}_${pod.metadata?.namespace}(${uid})" failed - error: ${result.output}`,
          fieldPath,
        );
        // the hook failed either way: a container that will not stop is stopped again by the next sync
        await cri.stopContainer(id, grace).catch(() => undefined);
        return RESYNC_AFTER_HOOK_MS;
      }
    }
    return undefined;
  }

  /** The credentials of the pod's imagePullSecrets for one image; a secret that cannot be read is reported and skipped. */
  async #pullCredentials(pod: Pod, image: string, event: PodEvent): Promise<AuthConfig[]> {
    const names = (pod.spec?.imagePullSecrets ?? []).map((r) => r.name).filter((n): n is string => !!n);
    if (names.length === 0) return [];
    // a secret that cannot be read counts as missing: the pull goes on without it and the event names it, as the kubelet does
    const found = await Promise.all(names.map((n) => this.#deps.objects.secret(pod.metadata?.namespace ?? '', n).catch(() => undefined)));
    const missing = names.filter((_, i) => !found[i]);
    if (missing.length)
      event(
        'Warning',
        'FailedToRetrieveImagePullSecret',
        `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.`,
      );
    return pullCredentials(
      image,
      found.filter((s): s is Secret => !!s),
    );
  }

  /** runAsNonRoot checked against the container's user, or the image's when it sets none (asking the runtime only then). */
  async #nonRootViolation(pod: Pod, spec: Container, imageRef: string): Promise<string | undefined> {
    const wantsNonRoot = spec.securityContext?.runAsNonRoot ?? pod.spec?.securityContext?.runAsNonRoot;
    if (!wantsNonRoot) return undefined;
    const explicitUser = spec.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser;
    const image = explicitUser === undefined ? await this.#deps.cri.imageStatus(imageRef) : null;
    return runAsNonRootViolation(pod, spec, { uid: image?.uid?.value, username: image?.username });
  }

  /**
   * Container garbage collection (the kubelet's MaxPerPodContainer 1): of each
   * container's exited instances only the newest stays, which is what
   * `kubectl logs --previous` and lastState need; older ones are removed, as
   * are sandboxes a newer one replaced.
   */
  async #removeDeadContainers(observed: ObservedPod, memory: PodMemory): Promise<void> {
    const { cri } = this.#deps;
    const byName = new Map<string, ObservedContainer[]>();
    for (const c of observed.containers) if (c.state === 'CONTAINER_EXITED') byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
    const dead: string[] = [];
    for (const list of byName.values())
      dead.push(
        ...list
          .sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt)
          .slice(1)
          .map((c) => c.id),
      );
    for (const id of dead)
      await cri.removeContainer(id).catch((err: Error) => this.#deps.log.warn({ container: id, err: err.message }, 'removing a dead container failed'));
    // an old sandbox that will not go now is tried again at the next sync
    for (const s of observed.sandboxes.slice(1)) if (s.state !== 'SANDBOX_READY') await cri.removePodSandbox(s.id).catch(() => undefined);
    for (const id of dead) memory.terminationMessages.delete(id);
    this.#observer.forget(dead);
  }

  /** Reads, once per container, what exited containers left at their terminationMessagePath. */
  async #readTerminationMessages(pod: Pod, observed: ObservedPod, memory: PodMemory): Promise<void> {
    const podDir = join(this.#deps.podsDir, pod.metadata?.uid ?? '');
    const specs = podContainers(pod.spec);
    for (const c of observed.containers) {
      if (c.state !== 'CONTAINER_EXITED' || memory.terminationMessages.has(c.id)) continue;
      const logPath = join(podLogDirectory(pod, this.#deps.env.podLogsDir), `${c.name}/${c.attempt}.log`);
      memory.terminationMessages.set(
        c.id,
        await readTerminationMessage(
          specs.find((s) => s.name === c.name),
          c,
          podDir,
          logPath,
        ),
      );
    }
  }

  /** /etc/hosts with the pod's own names and its host aliases, as the kubelet mounts it. */
  async #podMounts(pod: Pod, podIP: string): Promise<Mount[]> {
    if (pod.spec?.hostNetwork) return [];
    const dir = join(this.#deps.podsDir, pod.metadata?.uid ?? '');
    await mkdir(dir, { recursive: true });
    const hosts = etcHosts(pod, podIP, this.#deps.env.clusterDomain);
    const path = join(dir, 'etc-hosts');
    await writeFile(path, hosts);
    return [{ containerPath: '/etc/hosts', hostPath: path, readonly: false }];
  }

  async #stopSandboxes(observed: ObservedPod): Promise<void> {
    for (const s of observed.sandboxes) {
      if (s.state === 'SANDBOX_READY') await this.#deps.cri.stopPodSandbox(s.id);
    }
  }

  /** A pod that finished: release its sandbox (and IP) and its volumes' memory and disk, keep containers for logs. */
  async #stopTerminal(pod: Pod, observed: ObservedPod, memory: PodMemory): Promise<PodStatus> {
    await this.#stopSandboxes(observed);
    await this.unmountVolumes(pod).catch(() => undefined);
    return this.#statusOf(
      pod,
      observed.sandboxes.some((s) => s.state === 'SANDBOX_READY') ? await this.observe(pod.metadata?.uid ?? '') : observed,
      memory,
      true,
    );
  }

  /**
   * Stops the pod's containers within the grace period: the containers (and
   * init containers) together, then, once they are down, the sidecars one
   * by one in reverse order, with what is left of the grace period.
   */
  async #killAll(pod: Pod, observed: ObservedPod, graceSeconds: number): Promise<void> {
    const started = this.#now();
    const live = observed.containers.filter((c) => c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_CREATED');
    const sidecars = (pod.spec?.initContainers ?? []).filter(isSidecar).map((s) => s.name);
    await Promise.all(live.filter((c) => !sidecars.includes(c.name)).map((c) => this.#stopContainer(pod, observed, c, graceSeconds)));
    for (const name of [...sidecars].reverse()) {
      const left = Math.max(graceSeconds - Math.floor((this.#now() - started) / 1000), graceSeconds > 0 ? 2 : 0);
      for (const c of live.filter((l) => l.name === name)) await this.#stopContainer(pod, observed, c, left);
    }
    await this.#stopSandboxes(observed);
  }

  /** One container: its preStop hook (which spends the grace period), then SIGTERM and, after what is left, SIGKILL. */
  async #stopContainer(pod: Pod, observed: ObservedPod, c: ObservedContainer, graceSeconds: number): Promise<void> {
    const event = this.#deps.events(pod);
    const main = (pod.spec?.containers ?? []).find((s) => s.name === c.name);
    const spec = main ?? (pod.spec?.initContainers ?? []).find((s) => s.name === c.name);
    const fieldPath = fieldPathOf(c.name, !main);
    let grace = graceSeconds;
    if (c.state === 'CONTAINER_RUNNING') {
      event('Normal', 'Killing', `Stopping container ${c.name}`, fieldPath);
      const preStop = spec?.lifecycle?.preStop;
      if (preStop && grace > 0) {
        const started = this.#now();
        const result = await runHook(
          preStop,
          {
            podIP: observed.sandboxes[0]?.ip ?? '',
            container: spec as Container,
            containerId: c.id,
            execSync: (cid, cmd, t) => this.#deps.cri.execSync(cid, cmd, t),
          },
          grace,
        );
        if (!result.ok)
          event(
            'Warning',
            'FailedPreStopHook',
            `${describeHook(preStop)} for Container "${c.name}" in Pod "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})" failed - error: ${result.output}`,
            fieldPath,
          );
        grace = Math.max(grace - Math.ceil((this.#now() - started) / 1000), 2);
      }
    }
    await this.#deps.cri.stopContainer(c.id, grace).catch((err: Error) => this.#deps.log.warn({ err: err.message }, 'stop container failed'));
  }

  /** Stops every container within the grace period and the sandbox; returns the final status. */
  async terminate(pod: Pod, graceSeconds: number, memory: PodMemory): Promise<PodStatus> {
    this.#deps.prober?.remove(pod.metadata?.uid ?? '');
    const uid = pod.metadata?.uid ?? '';
    await this.#killAll(pod, await this.observe(uid), graceSeconds);
    const observed = await this.observe(uid);
    await this.#readTerminationMessages(pod, observed, memory);
    return this.#statusOf(pod, observed, memory, true);
  }

  /**
   * Unmounts the volumes of a pod whose containers are stopped (FailedUnmount
   * when one will not go). A deleted pod leaves the API server only after
   * this, as the kubelet's check that a pod's resources are reclaimed asks:
   * a pod that takes over its claim finds the volume unstaged.
   */
  async unmountVolumes(pod: Pod): Promise<void> {
    await tearDownVolumes(join(this.#deps.podsDir, pod.metadata?.uid ?? ''), this.#deps.claims).catch((err: Error) => {
      this.#deps.events(pod)('Warning', 'FailedUnmount', err.message);
      throw err;
    });
  }

  /** Removes everything the runtime and the agent hold for a pod that is gone from the API. */
  async remove(uid: string, pod: Pod | undefined): Promise<void> {
    this.#deps.prober?.remove(uid);
    const { cri } = this.#deps;
    const observed = await this.observe(uid);
    // best effort: the sandbox's removal below stops and removes whatever is left of its containers
    for (const c of observed.containers) {
      if (c.state === 'CONTAINER_RUNNING') await cri.stopContainer(c.id, 0).catch(() => undefined);
      await cri.removeContainer(c.id).catch(() => undefined);
    }
    this.#observer.forget(observed.containers.map((c) => c.id));
    this.#observer.forgetPod(uid);
    for (const s of observed.sandboxes) {
      try {
        if (s.state === 'SANDBOX_READY') await cri.stopPodSandbox(s.id);
        await cri.removePodSandbox(s.id);
      } catch (err) {
        const message = `failed to remove pod sandbox ${s.id}: ${(err as Error).message}`;
        // said once per cause; the pod's worker retries with back-off
        if (pod && this.#removalFailures.get(uid) !== message) this.#deps.events(pod)('Warning', 'FailedKillPod', `error killing pod: ${message}`);
        this.#removalFailures.set(uid, message);
        throw new Error(message);
      }
    }
    this.#removalFailures.delete(uid);
    await this.#deps.cgroups.remove(uid);
    // with the containers gone nothing holds the mounts; a volume that will not unmount keeps the pod's directory (and its data)
    await this.removePodDir(uid);
    if (pod) await rm(podLogDirectory(pod, this.#deps.env.podLogsDir), { recursive: true, force: true });
    this.crashBackoff.forgetPrefix(`${uid}/`);
    this.imageBackoff.forgetPrefix(`${uid}/`);
    this.sandboxBackoff.forgetPrefix(`${uid}/`);
  }

  /** Tears down a pod's volumes and removes its directory; false (and nothing removed) while a volume stays mounted. */
  async removePodDir(uid: string): Promise<boolean> {
    const dir = join(this.#deps.podsDir, uid);
    try {
      await tearDownVolumes(dir, this.#deps.claims);
    } catch (err) {
      this.#deps.log.warn({ uid, err: (err as Error).message }, 'volume teardown failed; the pod directory stays until it succeeds');
      return false;
    }
    await rm(dir, { recursive: true, force: true });
    return true;
  }
}

/**
 * The kubelet's /etc/hosts for a pod: localhost, the pod's address with its
 * hostname (and its FQDN when it has a subdomain), then its hostAliases.
 */
export function etcHosts(pod: Pod, podIP: string, clusterDomain: string): string {
  const hostname = pod.spec?.hostname ?? pod.metadata?.name ?? '';
  const fqdn = pod.spec?.subdomain ? `${hostname}.${pod.spec.subdomain}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}\t` : '';
  const aliases = pod.spec?.hostAliases ?? [];
  return [
    '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n',
    podIP ? `${podIP}\t${fqdn}${hostname}\n` : '',
    aliases.length ? `\n# Entries added by HostAliases.\n${aliases.map((a) => `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`).join('')}` : '',
  ].join('');
}
