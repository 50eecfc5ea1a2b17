import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { HOST } from './host-layout.ts';

/** The environment variable naming skiff's config file (k3s: K3S_CONFIG_FILE); the units set it to /etc/skiff/config.yaml. */
export const CONFIG_FILE_ENV = 'SKIFF_CONFIG_FILE';

type OptionTypes = Record<string, { type: 'string' | 'boolean' }>;

/** This host's settings (the config file the units read, SKIFF_CONFIG_FILE or /etc/skiff/config.yaml): none when there is no file. */
export async function hostSettings(): Promise<Record<string, unknown>> {
  const doc = YAML.parse(await readFile(process.env[CONFIG_FILE_ENV] ?? HOST.configFile, 'utf8').catch(() => '')) as Record<string, unknown> | null;
  return doc ?? {};
}

/**
 * The command line with the config file's settings in front, as k3s reads
 * its config.yaml: keys are flag names, values their values (a list for a
 * flag given several times). A flag on the command line comes later and so
 * wins. Keys of another skiff command (a host's server and agent share the
 * file) are left to it; `unknown` names keys no command takes.
 */
export function withConfigFile(argv: string[], own: OptionTypes, others: OptionTypes): { args: string[]; unknown: string[] } {
  const path = process.env[CONFIG_FILE_ENV];
  if (!path) return { args: argv, unknown: [] };
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(path, 'utf8')) ?? {};
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { args: argv, unknown: [] };
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${path}: must be a mapping of flag names to values`);
  const args: string[] = [];
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const option = own[key];
    if (!option) {
      if (!others[key]) unknown.push(key);
      continue;
    }
    for (const v of Array.isArray(value) ? value : [value]) {
      if (option.type === 'boolean') args.push(v === false || v === 'false' ? `--no-${key}` : `--${key}`);
      else args.push(`--${key}`, String(v));
    }
  }
  return { args: [...args, ...argv], unknown };
}
