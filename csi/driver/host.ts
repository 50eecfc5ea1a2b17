import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Runs a host tool; a failure carries the tool's own stderr, which is what an operator needs to see. */
export async function sh(cmd: string, args: string[], okExitCodes: number[] = []): Promise<string> {
  try {
    return (await exec(cmd, args, { maxBuffer: 4 * 1024 * 1024 })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string; code?: number | string };
    if (typeof e.code === 'number' && okExitCodes.includes(e.code)) return e.stdout ?? '';
    const detail = (e.stderr ?? '').trim() || e.message;
    throw new Error(`${cmd} ${args.join(' ')} failed: ${detail}`);
  }
}

/** The loop device backing `file`, if one is attached. */
export async function loopDeviceOf(file: string): Promise<string | undefined> {
  const out = await sh('losetup', ['-j', file, '-O', 'NAME', '-n']);
  return out
    .split('\n')
    .map((l) => l.trim())
    .find(Boolean);
}

/** The filesystem on a device, or '' when it holds none (blkid answers 2 for that). */
export async function filesystemOf(device: string): Promise<string> {
  try {
    return (await exec('blkid', ['-p', '-s', 'TYPE', '-o', 'value', device])).stdout.trim();
  } catch (err) {
    if ((err as { code?: number }).code === 2) return '';
    throw new Error(`blkid ${device} failed: ${((err as { stderr?: string }).stderr ?? '').trim()}`);
  }
}

export async function bindMount(from: string, to: string, readOnly: boolean): Promise<void> {
  await sh('mount', ['--bind', from, to]);
  // a bind mount takes the read-only flag only on a remount
  if (readOnly) await sh('mount', ['-o', 'remount,bind,ro', to]);
}

export async function unmount(path: string): Promise<void> {
  await sh('umount', [path]);
}
