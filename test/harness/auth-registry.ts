import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stopPid, waitFor } from '../../lab/index.ts';
import { spawnLogged } from '../../lab/testbed/index.ts';
import { freePort, REGISTRY } from '../../lab/testbed/index.ts';

// A registry that wants a password: docker-registry with htpasswd
// authentication, pulling through from the local registry, so it holds every
// image skiff builds without a push.

export const PULL_USER = 'puller';
export const PULL_PASSWORD = 'pull-secret';
// bcrypt (cost 4, so that checking it on every request stays cheap) of PULL_PASSWORD
const PULL_HASH = '$2a$04$5qUfi04QyjkRQUL067Psteswa2CdpECBUMG6Vf7rHyuMV6YFrVurS';

export interface AuthRegistry {
  /** host:port */
  address: string;
  stop(): Promise<void>;
}

export async function startAuthRegistry(dir: string): Promise<AuthRegistry> {
  await mkdir(join(dir, 'data'), { recursive: true });
  const port = await freePort();
  await writeFile(join(dir, 'htpasswd'), `${PULL_USER}:${PULL_HASH}\n`);
  await writeFile(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: {level: warn}',
      `http: {addr: "127.0.0.1:${port}"}`,
      `storage: {filesystem: {rootdirectory: "${join(dir, 'data')}"}}`,
      `auth: {htpasswd: {realm: skiff-test, path: "${join(dir, 'htpasswd')}"}}`,
      `proxy: {remoteurl: "http://${REGISTRY}"}`,
      '',
    ].join('\n'),
  );
  const child = await spawnLogged(['docker-registry', 'serve', join(dir, 'config.yml')], join(dir, 'registry.log'));
  const stop = async () => {
    if (child.pid) await stopPid(child.pid, 10_000);
  };
  try {
    await waitFor('the authenticated registry', async () => (await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined))?.status === 401, 20_000, 100);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address: `127.0.0.1:${port}`, stop };
}
