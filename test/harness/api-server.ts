// The API server a test file shares, started before its tests and removed after them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startTestApiServer, type TestApiServer } from '../../lab/testbed/index.ts';

export interface ApiServerFixture extends TestApiServer {
  /** the server's directory, where a test may keep files of its own */
  readonly dir: string;
  /** stops the server and starts it again with the same flags (and `extraArgs`), state and port */
  restart(extraArgs?: string[]): Promise<void>;
}

/**
 * One API server for the tests of a file: started before them in a fresh
 * directory named from `prefix` (after `prepare` has written there what the
 * flags refer to), stopped and its directory removed after them.
 */
export function useTestApiServer(prefix: string, args: string[] | ((dir: string) => string[]), prepare?: (dir: string) => Promise<void>): ApiServerFixture {
  let dir: string | undefined;
  let api: TestApiServer | undefined;
  const flags = (d: string) => (typeof args === 'function' ? args(d) : args);
  const running = (): TestApiServer => {
    if (!api) throw new Error('the test API server is not running (used outside the tests of its file?)');
    return api;
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    await prepare?.(dir);
    api = await startTestApiServer(dir, flags(dir));
  }, 60_000);
  afterAll(async () => {
    await api?.stop();
    if (dir && !process.env.SKIFF_TEST_KEEP) await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      if (!dir) throw new Error('the test API server has no directory yet (used outside the tests of its file?)');
      return dir;
    },
    get kubeconfig() {
      return running().kubeconfig;
    },
    get port() {
      return running().port;
    },
    get server() {
      return running().server;
    },
    get pkiDir() {
      return running().pkiDir;
    },
    kubectl: (...a) => running().kubectl(...a),
    kubectlResult: (a, input) => running().kubectlResult(a, input),
    withToken: (token, name) => running().withToken(token, name),
    stop: () => running().stop(),
    async restart(extraArgs: string[] = []) {
      const { port } = running();
      await running().stop();
      api = await startTestApiServer(dir as string, [...flags(dir as string), ...extraArgs], { port });
    },
  };
}
