import { rename, writeFile } from 'node:fs/promises';

/**
 * Writes a file by renaming a complete copy over it: a reader sees the old
 * contents or the new, never the empty or half-written file a plain
 * writeFile leaves for a moment.
 */
export async function replaceFile(path: string, data: string): Promise<void> {
  await writeFile(`${path}.tmp`, data);
  await rename(`${path}.tmp`, path);
}
