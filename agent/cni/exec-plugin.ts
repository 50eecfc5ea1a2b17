import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';

/** A CNI error result, as the spec defines it (code, msg, details). */
export class CniError extends Error {
  readonly code: number;
  readonly details: string;
  constructor(code: number, msg: string, details = '') {
    super(details ? `${msg}: ${details}` : msg);
    this.name = 'CniError';
    this.code = code;
    this.details = details;
  }
  toJSON(): object {
    return { cniVersion: '1.0.0', code: this.code, msg: this.message, details: this.details };
  }
}

export interface PluginCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'GC' | 'STATUS';
  containerId: string;
  netns: string;
  ifName: string;
  args: string;
  /** directories searched for the plugin binary, in order */
  path: string[];
}

/** Finds the plugin binary `type` in the search path (CNI_PATH). */
export async function findPlugin(type: string, path: string[]): Promise<string> {
  if (type.includes('/')) throw new CniError(4, `invalid plugin type ${JSON.stringify(type)}`);
  for (const dir of path) {
    const candidate = join(dir, type);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new CniError(4, `failed to find plugin "${type}" in path [${path.join(' ')}]`);
}

/**
 * Runs one CNI plugin binary with the call's environment and `config` on
 * stdin; returns its parsed stdout, or throws the CniError it reported.
 */
export async function execPlugin(type: string, config: object, call: PluginCall, signal?: AbortSignal): Promise<Record<string, unknown> | null> {
  const binary = await findPlugin(type, call.path);
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId,
    CNI_NETNS: call.netns,
    CNI_IFNAME: call.ifName,
    CNI_ARGS: call.args,
    CNI_PATH: call.path.join(':'),
  };
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(binary, [], { env, stdio: ['pipe', 'pipe', 'pipe'], signal });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(JSON.stringify(config));
  });
  const parsed = stdout.trim() ? tryJson(stdout) : null;
  if (code !== 0) {
    if (parsed && typeof parsed.msg === 'string') {
      throw new CniError(
        typeof parsed.code === 'number' ? parsed.code : 999,
        `plugin type="${type}" failed (${call.command.toLowerCase()}): ${parsed.msg}`,
        typeof parsed.details === 'string' ? parsed.details : '',
      );
    }
    throw new CniError(999, `plugin type="${type}" failed (${call.command.toLowerCase()}) with exit code ${code}`, (stderr || stdout).trim());
  }
  return parsed;
}

function tryJson(text: string): Record<string, unknown> | null {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}
