import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One plugin entry of a network configuration list. */
export interface PluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  ipam?: { type?: string; ranges?: unknown; subnet?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface NetworkConfList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: PluginConf[];
  /** the file it came from */
  source: string;
}

export class ConfListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfListError';
  }
}

const CONF_EXTENSIONS = ['.conflist', '.conf', '.json'];

/**
 * Loads the node's network: the first file of confDir in lexical order, as
 * container runtimes choose it. A single-plugin `.conf` becomes a list of one.
 */
export async function loadNetwork(confDir: string): Promise<NetworkConfList> {
  let names: string[];
  try {
    names = (await readdir(confDir)).filter((n) => CONF_EXTENSIONS.some((e) => n.endsWith(e))).sort();
  } catch (err) {
    throw new ConfListError(`cannot read CNI config directory ${confDir}: ${(err as Error).message}`);
  }
  const first = names[0];
  if (!first) throw new ConfListError(`no network config found in ${confDir}`);
  const source = join(confDir, first);
  return parseNetwork(await readFile(source, 'utf8'), source);
}

export function parseNetwork(text: string, source: string): NetworkConfList {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ConfListError(`${source}: not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfListError(`${source}: not a JSON object`);
  const { cniVersion, name } = raw;
  if (typeof cniVersion !== 'string' || !cniVersion) throw new ConfListError(`${source}: cniVersion is required`);
  if (typeof name !== 'string' || !name) throw new ConfListError(`${source}: name is required`);
  let plugins: unknown;
  if ('plugins' in raw) {
    plugins = raw.plugins;
  } else {
    const { cniVersion: _v, name: _n, ...single } = raw;
    plugins = [single];
  }
  if (!Array.isArray(plugins) || plugins.length === 0) throw new ConfListError(`${source}: plugins must be a non-empty list`);
  plugins.forEach((p: unknown, i) => {
    if (typeof p !== 'object' || p === null || typeof (p as PluginConf).type !== 'string' || !(p as PluginConf).type) {
      throw new ConfListError(`${source}: plugins[${i}].type is required`);
    }
  });
  return { cniVersion, name, disableCheck: raw.disableCheck === true, plugins: plugins as PluginConf[], source };
}

/**
 * Gives a host-local IPAM with no range of its own the node's pod CIDR, so one
 * conflist serves every node (Node.spec.podCIDR decides the addresses).
 */
export function withPodCidr(net: NetworkConfList, podCidr: string | undefined): NetworkConfList {
  if (!podCidr) return net;
  return {
    ...net,
    plugins: net.plugins.map((p) => {
      const ipam = p.ipam;
      if (ipam?.type !== 'host-local' || ipam.ranges || ipam.subnet) return p;
      return { ...p, ipam: { ...ipam, ranges: [[{ subnet: podCidr }]] } };
    }),
  };
}
