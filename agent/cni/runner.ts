import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execPlugin, CniError } from './exec-plugin.ts';
import { loadNetwork, withPodCidr, type NetworkConfList, type PluginConf } from './conflist.ts';

export interface CniRunnerOptions {
  /** directory holding the node's network config (/etc/cni/net.d) */
  confDir: string;
  /** plugin binary directories (CNI_PATH) */
  binDirs: string[];
  /** where results of ADD are kept, for CHECK and DEL (also after an agent restart) */
  cacheDir: string;
  /** the node's pod CIDR, given to a host-local IPAM without ranges */
  podCidr?: () => string | undefined;
}

export interface Attachment {
  containerId: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS (K8S_POD_NAMESPACE=…;K8S_POD_NAME=…) */
  args: string;
  /** capability arguments offered by the runtime (portMappings, bandwidth, …) */
  runtimeConfig?: Record<string, unknown>;
}

interface CachedAttachment {
  network: NetworkConfList;
  attachment: Attachment;
  result: Record<string, unknown>;
}

/**
 * Runs the node's conflist with the real plugin binaries, the way libcni does:
 * ADD in order threading prevResult, CHECK in order with the cached result,
 * DEL in reverse order. Results are cached on disk per attachment so DEL
 * works with the configuration that was used for ADD.
 */
export class CniRunner {
  #opts: CniRunnerOptions;

  constructor(opts: CniRunnerOptions) {
    this.#opts = opts;
  }

  async network(): Promise<NetworkConfList> {
    return withPodCidr(await loadNetwork(this.#opts.confDir), this.#opts.podCidr?.());
  }

  async add(a: Attachment, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const network = await this.network();
    let prevResult: Record<string, unknown> | undefined;
    for (const plugin of network.plugins) {
      const res = await execPlugin(plugin.type, pluginConfig(network, plugin, a, prevResult), this.#call('ADD', a), signal);
      if (!res) throw new CniError(999, `plugin type="${plugin.type}" returned no result for ADD`);
      prevResult = res;
    }
    const result = prevResult ?? {};
    await this.#store(a, { network, attachment: a, result });
    return result;
  }

  async check(a: Attachment, signal?: AbortSignal): Promise<void> {
    const cached = await this.#load(a);
    if (!cached) throw new CniError(999, `no cached result for container ${a.containerId} ${a.ifName}`);
    if (cached.network.disableCheck) return;
    for (const plugin of cached.network.plugins) {
      await execPlugin(plugin.type, pluginConfig(cached.network, plugin, a, cached.result), this.#call('CHECK', a), signal);
    }
  }

  /** Idempotent: deleting an attachment that was never added, or twice, succeeds. */
  async del(a: Attachment, signal?: AbortSignal): Promise<void> {
    const cached = await this.#load(a);
    const network = cached?.network ?? (await this.network());
    const runtimeConfig = cached?.attachment.runtimeConfig ?? a.runtimeConfig;
    const target = { ...a, runtimeConfig };
    for (const plugin of [...network.plugins].reverse()) {
      await execPlugin(plugin.type, pluginConfig(network, plugin, target, cached?.result), this.#call('DEL', target), signal);
    }
    await rm(this.#cachePath(a), { force: true });
  }

  /**
   * Frees what sandboxes the runtime no longer has left behind (a DEL that
   * never came: containerd restarted, a sandbox removed by hand): each cached
   * attachment whose container is not `live` is deleted with the
   * configuration it was added with, which gives back its IP and port
   * mappings. The network namespace may be gone; plugins accept that on DEL.
   * Attachments younger than `minAgeMs` are left alone: their sandbox may be
   * still on its way into the runtime's list. Returns the containers it swept.
   */
  async sweep(live: ReadonlySet<string>, opts: { minAgeMs?: number; signal?: AbortSignal } = {}): Promise<string[]> {
    const files = await readdir(this.#opts.cacheDir).catch(() => [] as string[]);
    const swept: string[] = [];
    for (const f of files.filter((n) => n.endsWith('.json'))) {
      const age = Date.now() - ((await stat(join(this.#opts.cacheDir, f)).catch(() => undefined))?.mtimeMs ?? Date.now());
      if (age < (opts.minAgeMs ?? 60_000)) continue;
      const cached = JSON.parse(await readFile(join(this.#opts.cacheDir, f), 'utf8').catch(() => 'null')) as CachedAttachment | null;
      const a = cached?.attachment;
      if (!a || live.has(a.containerId)) continue;
      await this.del(a, opts.signal);
      swept.push(a.containerId);
    }
    return swept;
  }

  #call(command: 'ADD' | 'DEL' | 'CHECK', a: Attachment) {
    return { command, containerId: a.containerId, netns: a.netns, ifName: a.ifName, args: a.args, path: this.#opts.binDirs };
  }

  #cachePath(a: Attachment): string {
    return join(this.#opts.cacheDir, `${a.containerId}-${a.ifName}.json`);
  }

  async #store(a: Attachment, c: CachedAttachment): Promise<void> {
    await mkdir(this.#opts.cacheDir, { recursive: true });
    await writeFile(this.#cachePath(a), JSON.stringify(c));
  }

  async #load(a: Attachment): Promise<CachedAttachment | null> {
    try {
      return JSON.parse(await readFile(this.#cachePath(a), 'utf8')) as CachedAttachment;
    } catch {
      return null;
    }
  }
}

/** The stdin config of one plugin call: the entry plus name, version, prevResult and its capability args. */
export function pluginConfig(net: NetworkConfList, plugin: PluginConf, a: Attachment, prevResult?: Record<string, unknown>): object {
  const { capabilities, ...rest } = plugin;
  const conf: Record<string, unknown> = { ...rest, cniVersion: net.cniVersion, name: net.name };
  if (prevResult) conf.prevResult = prevResult;
  const rc: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(capabilities ?? {})) {
    if (on && a.runtimeConfig && cap in a.runtimeConfig) rc[cap] = a.runtimeConfig[cap];
  }
  if (Object.keys(rc).length > 0) conf.runtimeConfig = rc;
  return conf;
}
