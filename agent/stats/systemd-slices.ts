import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pathExists } from '../../apimachinery/index.ts';

const run = promisify(execFile);

/** Resource settings of a slice, as systemd's property names (CPUShares, MemoryLimit, …) with their values. */
export type SliceProperties = Record<string, string | number>;

/**
 * Pod slices through systemd, for the systemd cgroup driver. systemctl talks
 * to the manager over its private socket as root, with no bus daemon needed.
 * A slice needs no unit file: starting one creates it with its parents. Its
 * settings are runtime drop-ins (set-property --runtime), which we delete
 * ourselves once the slice is stopped: `systemctl revert` would reload the
 * whole manager (~100 ms, and every unit on a busy host) for each pod.
 */
export class SystemdSlices {
  /** the systemctl command line (tests reach a systemd of their own through nsenter) */
  readonly #systemctl: string[];
  /** the manager's runtime directory, where set-property --runtime writes drop-ins */
  readonly #runtimeDir: string;

  constructor(opts: { systemctl?: string[]; runtimeDir?: string } = {}) {
    this.#systemctl = opts.systemctl ?? ['systemctl'];
    this.#runtimeDir = opts.runtimeDir ?? '/run/systemd';
  }

  async #call(args: string[]): Promise<void> {
    const [cmd, ...pre] = this.#systemctl;
    try {
      await run(cmd!, [...pre, ...args], { timeout: 30_000 });
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr?.trim();
      throw new Error(`systemctl ${args.join(' ')}: ${stderr || (err as Error).message}`);
    }
  }

  /** Where a slice's settings are kept. */
  settingsDir(slice: string): string {
    return join(this.#runtimeDir, 'system.control', `${slice}.d`);
  }

  /** Sets a slice's properties, then starts it (a no-op for a running slice, whose settings change in place). */
  async ensure(slice: string, properties: SliceProperties): Promise<void> {
    const settings = Object.entries(properties).map(([k, v]) => `${k}=${v}`);
    await this.#call(['set-property', '--runtime', slice, ...settings]);
    await this.#call(['start', slice]);
  }

  /** Stops slices (and whatever still runs in them) and deletes their settings. */
  async remove(slices: string[]): Promise<void> {
    if (slices.length === 0) return;
    await this.#call(['stop', ...slices]);
    await Promise.all(slices.map((s) => rm(this.settingsDir(s), { recursive: true, force: true })));
  }
}

/** Whether this host was booted with systemd as its init (as sd_booted() tells). */
export async function bootedWithSystemd(): Promise<boolean> {
  return pathExists('/run/systemd/system');
}
