import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { access, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKubeconfig, writeKubeconfig } from '../../apimachinery/index.ts';
import { stopPid, waitFor } from '../index.ts';
import { freePort } from './node.ts';

export const SKIFF = fileURLToPath(new URL('../../bin/skiff', import.meta.url));
export const KUBECTL = process.env.KUBECTL ?? '/opt/skiff/bin/kubectl';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real kubectl bound to one kubeconfig. */
export interface Kubectl {
  kubeconfig: string;
  /** resolves with stdout; rejects with stderr on a non-zero exit */
  kubectl(...args: string[]): Promise<string>;
  kubectlResult(args: string[], input?: string): Promise<KubectlResult>;
}

export interface TestApiServer extends Kubectl {
  port: number;
  server: ChildProcess;
  pkiDir: string;
  /** kubectl as the holder of a bearer token (no client certificate) */
  withToken(token: string, name: string): Promise<Kubectl>;
  stop(): Promise<void>;
}

export async function spawnLogged(argv: string[], logFile: string): Promise<ChildProcess> {
  const out = await open(logFile, 'a');
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', out.fd, out.fd] });
  await out.close();
  return child;
}

export function kubectlFor(kubeconfig: string): Kubectl {
  const kubectlResult = (args: string[], input?: string) =>
    new Promise<KubectlResult>((resolve) => {
      const child = execFile(KUBECTL, args, { env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: 120_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
      if (input !== undefined) child.stdin?.end(input);
    });
  return {
    kubeconfig,
    kubectlResult,
    async kubectl(...args: string[]) {
      const r = await kubectlResult(args);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
  };
}

/**
 * `skiff server` as a real process with its state, PKI and log in `dir`;
 * ready when /readyz answers. A restart passes the port it had, so clients keep their address.
 */
export async function startTestApiServer(dir: string, extraArgs: string[] = [], opts: { port?: number } = {}): Promise<TestApiServer> {
  await mkdir(dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const pkiDir = join(dir, 'pki');
  const kubeconfig = join(dir, 'admin.kubeconfig');
  // the DNS add-on on a port of its own, so servers of parallel tests do not meet on 53
  const dnsPort = await freePort();
  const server = await spawnLogged(
    [
      SKIFF,
      'server',
      '--secure-port',
      String(port),
      '--bind-address',
      '127.0.0.1',
      '--advertise-address',
      '127.0.0.1',
      '--pki-dir',
      pkiDir,
      '--datastore-endpoint',
      `sqlite://${join(dir, 'state.db')}`,
      '--write-kubeconfig',
      kubeconfig,
      '--cluster-dns-port',
      String(dnsPort),
      '--log-level',
      'debug',
      ...extraArgs,
    ],
    join(dir, 'server.log'),
  );
  const admin = kubectlFor(kubeconfig);
  const stop = async () => {
    if (server.pid) await stopPid(server.pid, 10_000);
  };
  try {
    await waitFor(
      'the API server',
      async () => {
        await access(kubeconfig);
        return (await admin.kubectlResult(['get', '--raw', '/readyz'])).code === 0;
      },
      30_000,
      100,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    ...admin,
    port,
    server,
    pkiDir,
    stop,
    async withToken(token: string, name: string) {
      const { server: url, ca } = await loadKubeconfig(kubeconfig);
      const path = join(dir, `${name}.kubeconfig`);
      await writeKubeconfig(path, { server: url, ca, token }, { user: name });
      return kubectlFor(path);
    },
  };
}
