import { access } from 'node:fs/promises';

/** Whether something is at `path` (a file, a directory, a socket; readable or not). */
export function pathExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
