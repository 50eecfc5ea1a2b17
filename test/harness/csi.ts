import type { Server } from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../apimachinery/index.ts';
import { CsiClient, CsiDriver, serveRegistration } from '../../csi/index.ts';
import { detachLoopDevicesUnder, unmountUnder } from '../../lab/index.ts';

export interface TestDriver {
  dir: string;
  socket: string;
  stateDir: string;
  driver: CsiDriver;
  client: CsiClient;
  /** stop serving (volumes stay), as a driver crash would */
  stop(): void;
  /** serve again on the same socket and state */
  restart(): Promise<void>;
  /** announce the driver in an agent's plugin registry directory */
  register(registryDir: string): Promise<void>;
  teardown(): Promise<void>;
}

/** The bundled CSI driver in this process, on a state directory of the test's own; teardown unmounts and detaches all it made. */
export async function startTestDriver(name: string, nodeId = `${name}-node`, opts: { driverName?: string } = {}): Promise<TestDriver> {
  const dir = await mkdtemp(join(tmpdir(), `sk-csi-${name.slice(0, 6)}-`));
  const socket = join(dir, 'csi.sock');
  const stateDir = join(dir, 'state');
  const driver = new CsiDriver({ name: opts.driverName, nodeId, stateDir, log: silentLogger });
  const servers: Server[] = [await driver.serve(socket)];
  const client = new CsiClient(socket, { timeoutMs: 60_000 });
  return {
    dir,
    socket,
    stateDir,
    driver,
    client,
    stop() {
      servers.splice(0).forEach((s) => s.forceShutdown());
    },
    async restart() {
      servers.push(await driver.serve(socket));
    },
    async register(registryDir) {
      servers.push((await serveRegistration({ registryDir, driverName: driver.name, endpoint: socket, log: silentLogger })).server);
    },
    async teardown() {
      client.close();
      servers.splice(0).forEach((s) => s.forceShutdown());
      await unmountUnder([dir]);
      await detachLoopDevicesUnder([dir]);
      if (!process.env.SKIFF_TEST_KEEP) await rm(dir, { recursive: true, force: true });
    },
  };
}
