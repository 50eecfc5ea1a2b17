import { readFile, statfs } from 'node:fs/promises';
import { arch, cpus, hostname, release } from 'node:os';

/** What this host is, read from the kernel and /etc: the Node's capacity and nodeInfo. */
export interface MachineInfo {
  cpus: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  machineID: string;
  systemUUID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
  architecture: string;
  hostname: string;
}

async function readTrim(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return '';
  }
}

export async function readMachineInfo(rootDir: string): Promise<MachineInfo> {
  const meminfo = await readTrim('/proc/meminfo');
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0);
  const fs = await statfs(rootDir).catch(() => statfs('/'));
  const osRelease = await readTrim('/etc/os-release');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? 'Linux';
  return {
    cpus: cpus().length,
    memoryBytes: memKb * 1024,
    ephemeralStorageBytes: fs.blocks * fs.bsize,
    machineID: await readTrim('/etc/machine-id'),
    systemUUID: (await readTrim('/sys/class/dmi/id/product_uuid')) || (await readTrim('/etc/machine-id')),
    bootID: await readTrim('/proc/sys/kernel/random/boot_id'),
    kernelVersion: release(),
    osImage: pretty,
    architecture: arch() === 'x64' ? 'amd64' : arch(),
    hostname: hostname(),
  };
}
