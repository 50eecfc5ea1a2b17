import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Resource settings of a slice, as systemd's property names (CPUShares, MemoryLimit, …) with their values. */
export type SliceProperties = Record<string, string | number>;

/**
 * Pod slices through systemd, for the systemd cgroup driver. systemctl talks
 * to the manager over its private socket as root, with no bus daemon needed.
 * A slice needs no unit file: starting one creates it with its parents, and
 * its settings are runtime drop-ins, reverted when the slice goes.
 */
export class SystemdSlices {
  /** the systemctl command line (tests reach a systemd of their own through nsenter) */
  readonly #systemctl: string[];

  constructor(systemctl: string[] = ['systemctl']) {
    this.#systemctl = systemctl;
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

  /** Sets a slice's properties, then starts it (a no-op for a running slice, whose settings change in place). */
  async ensure(slice: string, properties: SliceProperties): Promise<void> {
    const settings = Object.entries(properties).map(([k, v]) => `${k}=${v}`);
    await this.#call(['set-property', '--runtime', slice, ...settings]);
    await this.#call(['start', slice]);
  }

  /** Stops slices (and whatever still runs in them) and drops their settings. */
  async remove(slices: string[]): Promise<void> {
    if (slices.length === 0) return;
    await this.#call(['stop', ...slices]);
    await this.#call(['revert', ...slices]);
  }
}

/** Whether this host was booted with systemd as its init (as sd_booted() tells). */
export async function bootedWithSystemd(): Promise<boolean> {
  return access('/run/systemd/system').then(() => true, () => false);
}
