// An API server in the test's own process (no scheduler, no controllers),
// on a SQLite store and PKI of a directory the test owns: for tests that
// drive the server hard and look inside it (open watches, timers).
import { join } from 'node:path';
import { silentLogger } from '../../apimachinery/index.ts';
import { ApiServer, ServiceAccountTokens, SqliteStorage, ensureClusterPki, type ClusterPki } from '../../control-plane/index.ts';
import { freePort } from '../../lab/testbed/index.ts';

export interface InProcessServer {
  server: ApiServer;
  pki: ClusterPki;
  stop(): Promise<void>;
}

/** Starts it in `dir`; `watchBookmarkIntervalMs` as the server's option. */
export async function startInProcessServer(dir: string, opts: { watchBookmarkIntervalMs?: number } = {}): Promise<InProcessServer> {
  const pki = await ensureClusterPki(join(dir, 'pki'), { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const storage = new SqliteStorage(join(dir, 'state.db'));
  const server = new ApiServer({
    storage,
    tls: { cert: pki.apiserver.cert, key: pki.apiserver.key, clientCA: pki.ca.cert },
    kubeletClient: { ca: pki.ca.cert, ...pki.kubeletClient },
    bindAddress: '127.0.0.1',
    port: await freePort(),
    advertiseAddress: '127.0.0.1',
    serviceCidr: '10.96.0.0/12',
    serviceAccountTokens: await ServiceAccountTokens.load(join(dir, 'pki')),
    ...opts,
    log: silentLogger,
  });
  await server.start();
  return {
    server,
    pki,
    async stop() {
      await server.close();
      await storage.close();
    },
  };
}
