import { connect, createServer, type Server } from 'node:net';

/**
 * A TCP forwarder: what a booted test node (its own network namespace)
 * needs to reach a service of the host that listens on loopback only, such
 * as the local registry. Close the returned server to stop it.
 */
export async function forwardTcp(listen: { host: string; port: number }, target: { host: string; port: number }): Promise<Server> {
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return server;
}
