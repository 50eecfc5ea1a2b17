import type { ContainerRuntime } from './runtime.ts';
import type {
  Container,
  ContainerConfig,
  ExecSyncResponse,
  ContainerState,
  ContainerStatus,
  Image,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxState,
  PodSandboxStatus,
} from '../../cri-protos/types.ts';

interface FakeSandbox {
  config: PodSandboxConfig;
  state: PodSandboxState;
  createdAt: number;
  ip: string;
  runtimeHandler: string;
}

interface FakeContainer {
  sandboxId: string;
  config: ContainerConfig;
  state: ContainerState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
}

const matches = (labels: Record<string, string> | undefined, selector: Record<string, string> | undefined) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);

/**
 * A container runtime in memory, for unit tests of what drives one: sandboxes
 * get an address, containers run until the test ends them (exit) or the
 * code under test stops them, images are there or pulled, or cannot be.
 * Every call is recorded (calls) as "method arg".
 */
export class FakeRuntime implements ContainerRuntime {
  readonly calls: string[] = [];
  readonly sandboxes = new Map<string, FakeSandbox>();
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Set<string>();
  /** images a pull of fails, as a registry without them would answer */
  readonly unpullable = new Set<string>();
  /** set: removing any sandbox fails with this error, as containerd's does when its netns mount is busy */
  sandboxRemovalError: string | undefined;
  #ids = 0;
  #now: () => number;
  #lastMs = 0;

  /** `now`: the test's clock in milliseconds, which the runtime's timestamps follow */
  constructor(o: { now?: () => number } = {}) {
    this.#now = o.now ?? Date.now;
  }

  /** Strictly increasing (a millisecond apart at least), so the newest of two things made at once is still the newest. */
  #nanos(): number {
    this.#lastMs = Math.max(this.#now(), this.#lastMs + 1);
    return this.#lastMs * 1e6;
  }

  /** The test's own: the container named `name` (its newest attempt) exits with `code`. */
  exit(name: string, code: number): void {
    const c = [...this.containers.values()].filter((x) => x.config.metadata.name === name).sort((a, b) => b.createdAt - a.createdAt)[0];
    if (!c) throw new Error(`no container ${name}`);
    Object.assign(c, { state: 'CONTAINER_EXITED', finishedAt: this.#nanos(), exitCode: code, reason: code === 0 ? 'Completed' : 'Error' });
  }

  /** Names of the containers as created, in order, with their attempt: "web#0". */
  created(): string[] {
    return [...this.containers.values()].map((c) => `${c.config.metadata.name}#${c.config.metadata.attempt}`);
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    const id = `sandbox-${++this.#ids}`;
    this.calls.push(`runPodSandbox ${config.metadata.name}${runtimeHandler ? ` handler=${runtimeHandler}` : ''}`);
    this.sandboxes.set(id, { config, state: 'SANDBOX_READY', createdAt: this.#nanos(), ip: `10.9.0.${this.#ids}`, runtimeHandler });
    return id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    this.calls.push(`stopPodSandbox ${id}`);
    const s = this.sandboxes.get(id);
    if (s) s.state = 'SANDBOX_NOTREADY';
    for (const c of this.containers.values())
      if (c.sandboxId === id && c.state === 'CONTAINER_RUNNING') Object.assign(c, { state: 'CONTAINER_EXITED', exitCode: 137, finishedAt: this.#nanos() });
  }

  async removePodSandbox(id: string): Promise<void> {
    this.calls.push(`removePodSandbox ${id}`);
    if (this.sandboxRemovalError) throw new Error(this.sandboxRemovalError);
    this.sandboxes.delete(id);
    for (const [cid, c] of this.containers) if (c.sandboxId === id) this.containers.delete(cid);
  }

  #sandbox(id: string, s: FakeSandbox): PodSandbox {
    return {
      id,
      metadata: s.config.metadata,
      state: s.state,
      createdAt: s.createdAt,
      labels: s.config.labels ?? {},
      annotations: s.config.annotations ?? {},
      runtimeHandler: s.runtimeHandler,
    };
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const s = this.sandboxes.get(id);
    if (!s) throw new Error(`sandbox ${id} not found`);
    return { ...this.#sandbox(id, s), network: { ip: s.ip, additionalIps: [] } };
  }

  async listPodSandbox(filter: { id?: string; state?: PodSandboxState; labelSelector?: Record<string, string> } = {}): Promise<PodSandbox[]> {
    return [...this.sandboxes]
      .filter(([id, s]) => (!filter.id || id === filter.id) && (!filter.state || s.state === filter.state) && matches(s.config.labels, filter.labelSelector))
      .map(([id, s]) => this.#sandbox(id, s));
  }

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const id = `container-${++this.#ids}`;
    this.calls.push(`createContainer ${config.metadata.name}`);
    this.containers.set(id, { sandboxId, config, state: 'CONTAINER_CREATED', createdAt: this.#nanos(), startedAt: 0, finishedAt: 0, exitCode: 0, reason: '' });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) throw new Error(`container ${id} not found`);
    this.calls.push(`startContainer ${c.config.metadata.name}`);
    Object.assign(c, { state: 'CONTAINER_RUNNING', startedAt: this.#nanos() });
  }

  async stopContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    this.calls.push(`stopContainer ${c?.config.metadata.name ?? id}`);
    if (c && c.state === 'CONTAINER_RUNNING') Object.assign(c, { state: 'CONTAINER_EXITED', exitCode: 137, finishedAt: this.#nanos(), reason: 'Error' });
  }

  async removeContainer(id: string): Promise<void> {
    this.containers.delete(id);
  }

  #container(id: string, c: FakeContainer): Container {
    return {
      id,
      podSandboxId: c.sandboxId,
      metadata: c.config.metadata,
      image: c.config.image,
      imageRef: c.config.image.image,
      state: c.state,
      createdAt: c.createdAt,
      labels: c.config.labels ?? {},
      annotations: c.config.annotations ?? {},
    };
  }

  async listContainers(
    filter: { id?: string; podSandboxId?: string; state?: ContainerState; labelSelector?: Record<string, string> } = {},
  ): Promise<Container[]> {
    return [...this.containers]
      .filter(
        ([id, c]) =>
          (!filter.id || id === filter.id) &&
          (!filter.podSandboxId || c.sandboxId === filter.podSandboxId) &&
          (!filter.state || c.state === filter.state) &&
          matches(c.config.labels, filter.labelSelector),
      )
      .map(([id, c]) => this.#container(id, c));
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    const c = this.containers.get(id);
    if (!c) throw new Error(`container ${id} not found`);
    const { podSandboxId: _s, ...base } = this.#container(id, c);
    return { ...base, startedAt: c.startedAt, finishedAt: c.finishedAt, exitCode: c.exitCode, reason: c.reason, message: '', logPath: c.config.logPath ?? '' };
  }

  async execSync(): Promise<ExecSyncResponse> {
    return { exitCode: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  }

  async pullImage(image: string): Promise<string> {
    this.calls.push(`pullImage ${image}`);
    if (this.unpullable.has(image)) throw new Error(`rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`);
    this.images.add(image);
    return `sha256:${Buffer.from(image).toString('hex').slice(0, 16)}`;
  }

  async imageStatus(image: string): Promise<Image | null> {
    if (!this.images.has(image)) return null;
    return {
      id: `sha256:${Buffer.from(image).toString('hex').slice(0, 16)}`,
      repoTags: [image],
      repoDigests: [],
      size: 1,
      pinned: false,
      uid: null,
      username: '',
    } as Image;
  }
}
