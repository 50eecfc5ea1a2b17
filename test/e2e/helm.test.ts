import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTestApiServer } from '../harness/api-server.ts';

// The real helm (v4: server-side apply by default) installing, upgrading,
// rolling back and uninstalling (waiting, over a streaming-list watch) the
// chart in test/fixtures/charts/greeter.
// No node is needed: the release is the API objects and helm's own Secrets.

const HELM = process.env.HELM ?? '/opt/skiff/bin/helm';
const CHART = fileURLToPath(new URL('../fixtures/charts/greeter', import.meta.url));

const api = useTestApiServer('sk-helm-', ['--disable-scheduler']);

function helm(...args: string[]): Promise<string> {
  const env = {
    ...process.env,
    KUBECONFIG: api.kubeconfig,
    HELM_CACHE_HOME: join(api.dir, 'helm/cache'),
    HELM_CONFIG_HOME: join(api.dir, 'helm/config'),
    HELM_DATA_HOME: join(api.dir, 'helm/data'),
  };
  return new Promise((resolve, reject) => {
    execFile(HELM, args, { env, timeout: 120_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`helm ${args.join(' ')} failed: ${stderr}`)) : resolve(stdout),
    );
  });
}

const greeting = () => api.kubectl('get', 'configmap', 'hi-config', '-o', 'jsonpath={.data.greeting}');
const releaseSecrets = async () => (await api.kubectl('get', 'secrets', '-l', 'owner=helm,name=hi', '-o', 'name')).split('\n').filter(Boolean).sort();

describe('helm', () => {
  it('installs a release', async () => {
    expect(await helm('install', 'hi', CHART)).toMatch(/^STATUS: deployed$/m);
    expect(await greeting()).toBe('hello');
    expect(await api.kubectl('get', 'deployment', 'hi', '-o', 'jsonpath={.spec.replicas} {.metadata.labels.app\\.kubernetes\\.io/instance}')).toBe('1 hi');
    expect(await api.kubectl('get', 'service', 'hi', '-o', 'jsonpath={.spec.ports[0].targetPort}')).toBe('8080');
    expect(await releaseSecrets()).toEqual(['secret/sh.helm.release.v1.hi.v1']);
  });

  it('upgrades it with new values', async () => {
    expect(await helm('upgrade', 'hi', CHART, '--set', 'greeting=bonjour,replicas=2')).toMatch(/^REVISION: 2$/m);
    expect(await greeting()).toBe('bonjour');
    expect(await api.kubectl('get', 'deployment', 'hi', '-o', 'jsonpath={.spec.replicas} {.metadata.generation}')).toBe('2 2');
    const managers = JSON.parse(await api.kubectl('get', 'deployment', 'hi', '-o', 'json', '--show-managed-fields')).metadata.managedFields.map(
      (e: { manager: string; operation: string }) => `${e.manager} ${e.operation}`,
    );
    expect(managers).toContain('helm Apply');
  });

  it('rolls back to the first revision', async () => {
    await helm('rollback', 'hi', '1');
    expect(await greeting()).toBe('hello');
    expect(await api.kubectl('get', 'deployment', 'hi', '-o', 'jsonpath={.spec.replicas}')).toBe('1');
    const history = await helm('history', 'hi', '-o', 'json');
    expect(JSON.parse(history).map((r: { revision: number; status: string }) => `${r.revision} ${r.status}`)).toEqual([
      '1 superseded',
      '2 superseded',
      '3 deployed',
    ]);
  });

  it('uninstalls it, leaving nothing behind', async () => {
    expect(await helm('uninstall', 'hi', '--wait')).toContain('release "hi" uninstalled');
    expect(await api.kubectl('get', 'deployments,services,configmaps', '-l', 'app.kubernetes.io/instance=hi', '-o', 'name')).toBe('');
    expect((await api.kubectlResult(['get', 'service', 'hi'])).stderr).toContain('NotFound');
    expect(await releaseSecrets()).toEqual([]);
    expect(await helm('list', '-q')).toBe('');
  });
});
