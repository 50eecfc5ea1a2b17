import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../apimachinery/index.ts';
import { CSI_PLUGIN_TYPE, CsiClient, RegistrationClient, type Topology } from '../../csi/index.ts';

/** A CSI driver registered on this node: its client and what it said about itself. */
export interface CsiPlugin {
  name: string;
  endpoint: string;
  client: CsiClient;
  nodeId: string;
  maxVolumesPerNode: number;
  topology: Topology | undefined;
  nodeCapabilities: Set<string>;
  /** the controller RPCs the plugin serves (empty without a controller service) */
  controllerCapabilities: Set<string>;
  /** the registration socket it came through */
  socket: string;
}

/** Registered plugins changed: the CSINode object and the storage sidecars follow. */
export type PluginsChanged = (plugins: ReadonlyMap<string, CsiPlugin>) => void;

const SUPPORTED_VERSION = /^1\./;

/** Where node plugins announce themselves to an agent whose state is under `rootDir` (the kubelet's plugins_registry). */
export function pluginRegistryDir(rootDir: string): string {
  return join(rootDir, 'plugins_registry');
}

/** Where a CSI driver named `driver` serving this agent keeps its socket, as kubelet deployments lay it out. */
export function pluginSocket(rootDir: string, driver: string): string {
  return join(rootDir, 'plugins', driver, 'csi.sock');
}

/**
 * The kubelet's plugin watcher for CSI: a plugin drops a registration socket
 * into the registry directory; the watcher asks it (GetInfo) for its name and
 * endpoint, checks the CSI version, asks the driver itself for its node id,
 * topology and capabilities, and tells the plugin whether it is registered
 * (NotifyRegistrationStatus). A socket that disappears, or stops answering
 * on the periodic re-scan, takes its plugin out.
 */
export class PluginRegistry {
  readonly dir: string;
  #plugins = new Map<string, CsiPlugin>();
  #bySocket = new Map<string, string>();
  #log: Logger;
  #changed: PluginsChanged[] = [];
  #scanning: Promise<void> | undefined;
  #again = false;
  #watcher: FSWatcher | undefined;

  constructor(dir: string, log: Logger) {
    this.dir = dir;
    this.#log = log;
  }

  get(name: string): CsiPlugin | undefined {
    return this.#plugins.get(name);
  }

  all(): ReadonlyMap<string, CsiPlugin> {
    return this.#plugins;
  }

  onChange(fn: PluginsChanged): void {
    this.#changed.push(fn);
  }

  /** Scans the directory now, then on every change in it and every `rescanMs`. */
  async run(signal: AbortSignal, rescanMs = 10_000): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.scan();
    this.#watcher = watch(this.dir, () => void this.scan());
    const timer = setInterval(() => void this.scan(), rescanMs);
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(timer);
        this.#watcher?.close();
        for (const p of this.#plugins.values()) p.client.close();
        this.#plugins.clear();
      },
      { once: true },
    );
  }

  /** One pass over the directory; overlapping calls fold into one more pass. */
  scan(): Promise<void> {
    if (this.#scanning) {
      this.#again = true;
      return this.#scanning;
    }
    this.#scanning = (async () => {
      do {
        this.#again = false;
        await this.#scanOnce().catch((err: Error) => this.#log.warn({ err: err.message }, 'plugin registry scan failed'));
      } while (this.#again);
    })().finally(() => {
      this.#scanning = undefined;
    });
    return this.#scanning;
  }

  async #scanOnce(): Promise<void> {
    const sockets = new Set<string>();
    for (const f of await readdir(this.dir).catch(() => [] as string[])) {
      const path = join(this.dir, f);
      if ((await stat(path).catch(() => undefined))?.isSocket()) sockets.add(path);
    }
    let changed = false;
    for (const [socket, name] of this.#bySocket) {
      const plugin = this.#plugins.get(name);
      if (
        sockets.has(socket) &&
        plugin &&
        (await plugin.client.probe().then(
          () => true,
          () => false,
        ))
      )
        continue;
      this.#log.info({ driver: name, socket }, 'CSI plugin deregistered');
      plugin?.client.close();
      this.#plugins.delete(name);
      this.#bySocket.delete(socket);
      changed = true;
    }
    for (const socket of sockets) {
      if (this.#bySocket.has(socket)) continue;
      changed = (await this.#register(socket)) || changed;
    }
    if (changed) for (const fn of this.#changed) fn(this.#plugins);
  }

  async #register(socket: string): Promise<boolean> {
    const reg = new RegistrationClient(socket);
    try {
      const info = await reg.info().catch(() => undefined);
      // not a plugin (yet): a socket still being set up answers on a later pass
      if (!info) return false;
      const refuse = async (why: string) => {
        this.#log.warn({ socket, plugin: info.name, why }, 'plugin registration refused');
        // the refusal is logged above; a plugin that cannot hear it learns nothing more from an error here
        await reg.notify(false, why).catch(() => undefined);
        return false;
      };
      if (info.type !== CSI_PLUGIN_TYPE) return refuse(`plugin type ${info.type} is not supported (only ${CSI_PLUGIN_TYPE})`);
      if (!info.supportedVersions.some((v) => SUPPORTED_VERSION.test(v)))
        return refuse(`none of the versions ${info.supportedVersions.join(', ')} is supported (1.x)`);
      const other = this.#plugins.get(info.name);
      if (other && other.socket !== socket) return refuse(`a plugin named ${info.name} is registered already through ${other.socket}`);
      const client = new CsiClient(info.endpoint);
      try {
        const node = await client.nodeGetInfo();
        const nodeCapabilities = new Set(await client.nodeCapabilities());
        const pluginCapabilities = await client.pluginCapabilities();
        const controllerCapabilities = new Set(pluginCapabilities.includes('CONTROLLER_SERVICE') ? await client.controllerCapabilities() : []);
        this.#plugins.set(info.name, {
          name: info.name,
          endpoint: info.endpoint,
          client,
          nodeId: node.nodeId,
          maxVolumesPerNode: node.maxVolumesPerNode,
          topology: node.accessibleTopology ?? undefined,
          nodeCapabilities,
          controllerCapabilities,
          socket,
        });
      } catch (err) {
        client.close();
        return refuse(`the driver at ${info.endpoint} does not answer: ${(err as Error).message}`);
      }
      this.#bySocket.set(socket, info.name);
      this.#log.info({ driver: info.name, endpoint: info.endpoint }, 'CSI plugin registered');
      // registered either way: the notice is a courtesy to the plugin's registrar
      await reg.notify(true).catch(() => undefined);
      return true;
    } finally {
      reg.close();
    }
  }
}
