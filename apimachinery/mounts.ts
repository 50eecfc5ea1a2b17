import { readFile } from 'node:fs/promises';

/** One line of /proc/self/mountinfo: where, what, and with which options. */
export interface MountEntry {
  mountPoint: string;
  /** the mount's own options (ro/rw, nosuid …) */
  options: string[];
  fsType: string;
  /** the device or source (`/dev/loop3`, `tmpfs`) */
  source: string;
  /** the path within the source filesystem that is mounted (`/` unless a bind of a subdirectory) */
  root: string;
}

// mountinfo escapes space, tab, newline and backslash as octal
const unescapeOctal = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (dash < 0) continue;
    out.push({
      root: unescapeOctal(f[3] ?? ''),
      mountPoint: unescapeOctal(f[4] ?? ''),
      options: (f[5] ?? '').split(','),
      fsType: f[dash + 1] ?? '',
      source: unescapeOctal(f[dash + 2] ?? ''),
    });
  }
  return out;
}

export async function mountTable(): Promise<MountEntry[]> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

/** The topmost mount at exactly `path`, if something is mounted there. */
export async function mountAt(path: string): Promise<MountEntry | undefined> {
  return (await mountTable()).findLast((m) => m.mountPoint === path);
}

/** Mount points at or below any of `prefixes`, deepest first. */
export async function mountsUnder(prefixes: string[]): Promise<string[]> {
  const points = (await mountTable()).map((m) => m.mountPoint).filter((p) => prefixes.some((pre) => p === pre || p.startsWith(`${pre}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}
