import type { Container, Pod, Probe } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../apimachinery/index.ts';
import type { ProbeResult, ProbeType } from '../metrics/index.ts';
import { runProbe, type ProbeTarget } from './run-probe.ts';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

const KIND_NAMES: Record<ProbeKind, ProbeType> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

export interface ProberDeps {
  execSync: ProbeTarget['execSync'];
  /** a container's readiness or start changed: recompute the pod's status */
  changed(uid: string): void;
  /** the liveness (or startup) probe failed for good: stop the container so it restarts */
  kill(pod: Pod, containerId: string, container: Container, message: string): void;
  event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath: string): void;
  /** told of every probe run (the prober metrics), and of a pod whose probes all stopped */
  metrics?: {
    probed(p: { probeType: ProbeType; result: ProbeResult; container: string; pod: string; namespace: string; podUid: string }): void;
    forgetProbes(podUid: string): void;
  };
  log: Logger;
}

interface Worker {
  kind: ProbeKind;
  containerId: string;
  timer: NodeJS.Timeout | undefined;
  successes: number;
  failures: number;
  stopped: boolean;
}

/** What the probes say of one running container. */
interface ContainerProbes {
  containerId: string;
  ready: boolean;
  started: boolean;
  workers: Worker[];
}

/**
 * Where a probe starts from. A container the pod's status already reports
 * under the same id is one an agent restart found running: it keeps the
 * readiness and start the status shows until its probes say otherwise, so a
 * restarted agent does not take ready pods out of their Services while it
 * probes them again. Any other container starts not ready and not started.
 */
function reportedBefore(pod: Pod, c: Container, id: string): { ready: boolean; started: boolean } {
  const reported = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find(
    (s) => s.name === c.name && s.containerID?.endsWith(`://${id}`) && s.state?.running,
  );
  return { ready: !c.readinessProbe || reported?.ready === true, started: !c.startupProbe || reported?.started === true };
}

/**
 * Runs each running container's probes on their own timers, as the kubelet's
 * prober workers do: after initialDelaySeconds, every periodSeconds, a
 * result flips only after successThreshold successes or failureThreshold
 * failures. Readiness starts false (see reportedBefore) and drives the container's ready flag;
 * a startup probe holds liveness and readiness back until it succeeds;
 * liveness (or startup) failing for good has the container killed and
 * restarted. Every failure is an Unhealthy event, as the kubelet records.
 */
export class Prober {
  #deps: ProberDeps;
  /** pod uid → container name → probes */
  #pods = new Map<string, Map<string, ContainerProbes>>();

  constructor(deps: ProberDeps) {
    this.#deps = deps;
  }

  /** Readiness of a running container: undefined when it has no readiness probe. */
  ready(uid: string, container: Container, containerId: string): boolean | undefined {
    const p = this.#pods.get(uid)?.get(container.name);
    if (!container.readinessProbe && !container.startupProbe) return undefined;
    if (!p || p.containerId !== containerId) return false;
    return p.ready && p.started;
  }

  /** Whether a running container has started (its startup probe passed): undefined when it has none. */
  started(uid: string, container: Container, containerId: string): boolean | undefined {
    if (!container.startupProbe) return undefined;
    const p = this.#pods.get(uid)?.get(container.name);
    return !!p && p.containerId === containerId && p.started;
  }

  /** Probes the pod's running containers (by id): new ones get workers, replaced or stopped ones lose theirs. */
  update(pod: Pod, podIP: string, running: Map<string, string>): void {
    const uid = pod.metadata?.uid ?? '';
    let containers = this.#pods.get(uid);
    if (!containers) this.#pods.set(uid, (containers = new Map()));
    for (const [name, p] of containers) {
      if (running.get(name) === p.containerId) continue;
      this.#stopAll(p);
      containers.delete(name);
    }
    // the pod's containers and its sidecars (init containers that keep running)
    for (const c of [...(pod.spec?.initContainers ?? []).filter((i) => i.restartPolicy === 'Always'), ...(pod.spec?.containers ?? [])]) {
      const id = running.get(c.name);
      if (!id || containers.has(c.name) || !(c.livenessProbe || c.readinessProbe || c.startupProbe)) continue;
      const probes: ContainerProbes = { containerId: id, ...reportedBefore(pod, c, id), workers: [] };
      containers.set(c.name, probes);
      for (const [kind, probe] of [
        ['startup', c.startupProbe],
        ['liveness', c.livenessProbe],
        ['readiness', c.readinessProbe],
      ] as const) {
        if (!probe) continue;
        const w: Worker = { kind, containerId: id, timer: undefined, successes: 0, failures: 0, stopped: false };
        probes.workers.push(w);
        this.#every(w, (probe.initialDelaySeconds ?? 0) * 1000, () => this.#probe(pod, podIP, c, probe, probes, w));
      }
    }
    if (containers.size === 0) this.#pods.delete(uid);
  }

  /** The pod is gone or stopping: no more probes. */
  remove(uid: string): void {
    for (const p of this.#pods.get(uid)?.values() ?? []) this.#stopAll(p);
    this.#pods.delete(uid);
    this.#deps.metrics?.forgetProbes(uid);
  }

  #stopAll(p: ContainerProbes): void {
    for (const w of p.workers) {
      w.stopped = true;
      clearTimeout(w.timer);
    }
  }

  #every(w: Worker, delayMs: number, run: () => Promise<number>): void {
    w.timer = setTimeout(async () => {
      if (w.stopped) return;
      const next = await run();
      if (!w.stopped) this.#every(w, next, run);
    }, delayMs);
    w.timer.unref();
  }

  /** One probe run; resolves with the delay before the next. */
  async #probe(pod: Pod, podIP: string, container: Container, probe: Probe, probes: ContainerProbes, w: Worker): Promise<number> {
    const period = (probe.periodSeconds ?? 10) * 1000;
    // liveness and readiness wait for the startup probe
    if (w.kind !== 'startup' && !probes.started) return period;
    if (w.kind === 'startup' && probes.started) return period;
    const result = await runProbe(probe, { podIP, container, containerId: w.containerId, execSync: this.#deps.execSync });
    if (w.stopped) return period;
    const uid = pod.metadata?.uid ?? '';
    this.#deps.metrics?.probed({
      probeType: KIND_NAMES[w.kind],
      result: result.ok ? 'successful' : 'failed',
      container: container.name,
      pod: pod.metadata?.name ?? '',
      namespace: pod.metadata?.namespace ?? '',
      podUid: uid,
    });
    const fieldPath = `spec.containers{${container.name}}`;
    if (result.ok) {
      w.successes++;
      w.failures = 0;
    } else {
      w.failures++;
      w.successes = 0;
      this.#deps.event(pod, 'Warning', 'Unhealthy', `${KIND_NAMES[w.kind]} probe failed: ${result.output}`, fieldPath);
    }
    const succeeded = w.successes >= (w.kind === 'readiness' ? (probe.successThreshold ?? 1) : 1);
    const failed = w.failures >= (probe.failureThreshold ?? 3);
    switch (w.kind) {
      case 'readiness':
        if ((succeeded && !probes.ready) || (failed && probes.ready)) {
          probes.ready = succeeded;
          this.#deps.changed(uid);
        }
        break;
      case 'startup':
        if (succeeded) {
          probes.started = true;
          this.#deps.changed(uid);
        } else if (failed) {
          this.#stopAll(probes);
          this.#deps.kill(pod, w.containerId, container, `Container ${container.name} failed startup probe, will be restarted`);
        }
        break;
      case 'liveness':
        if (failed) {
          this.#stopAll(probes);
          this.#deps.kill(pod, w.containerId, container, `Container ${container.name} failed liveness probe, will be restarted`);
        }
        break;
    }
    return period;
  }
}
