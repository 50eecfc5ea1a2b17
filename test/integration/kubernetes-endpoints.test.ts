// The kubernetes Service's endpoints, kept by every server from the Leases
// the servers renew: this server's address and port from the start (so pods
// reach the API at the Service's cluster IP), another live server added, one
// whose Lease ran out left out, a server that stops taken out, and nothing
// written again while nothing changed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { microTime, silentLogger } from '../../apimachinery/index.ts';
import { KubernetesEndpoints } from '../../control-plane/index.ts';
import { startInProcessServer, type InProcessServer } from '../harness/in-process-server.ts';

let dir = '';
let s: InProcessServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sk-kep-'));
  s = await startInProcessServer(dir);
});

afterAll(async () => {
  await s?.stop();
  await rm(dir, { recursive: true, force: true });
});

const registries = () => ({
  leases: s.server.registry('coordination.k8s.io', 'leases'),
  endpoints: s.server.registry('', 'endpoints'),
  endpointSlices: s.server.registry('discovery.k8s.io', 'endpointslices'),
});
const endpoints = () => s.server.registry('', 'endpoints').get('default', 'kubernetes');
const addresses = async () => {
  const e = (await endpoints()) as unknown as { subsets: { addresses: { ip: string }[]; ports: { port: number }[] }[] };
  return e.subsets.flatMap((sub) => sub.addresses.map((a) => `${a.ip}:${sub.ports[0]?.port}`));
};

describe("the kubernetes Service's endpoints", () => {
  it('lists this server from the start, in the Endpoints (not mirrored) and the EndpointSlice', async () => {
    const own = `127.0.0.1:${s.server.port}`;
    await expect.poll(() => addresses().catch(() => []), { timeout: 10_000 }).toEqual([own]);
    const e = await endpoints();
    expect(e.metadata.labels?.['endpointslice.kubernetes.io/skip-mirror']).toBe('true');
    expect((e as unknown as { subsets: unknown[] }).subsets).toEqual([
      { addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: s.server.port, protocol: 'TCP' }] },
    ]);
    const slice = (await s.server.registry('discovery.k8s.io', 'endpointslices').get('default', 'kubernetes')) as unknown as Record<string, unknown>;
    expect(slice.metadata).toMatchObject({ labels: { 'kubernetes.io/service-name': 'kubernetes' } });
    expect(slice.endpoints).toEqual([{ addresses: ['127.0.0.1'], conditions: { ready: true, serving: true, terminating: false } }]);
    expect(slice.ports).toEqual([{ name: 'https', port: s.server.port, protocol: 'TCP' }]);
  });

  it('adds another live server, leaves out one whose Lease ran out, and takes out a server that stops', async () => {
    const own = `127.0.0.1:${s.server.port}`;
    const other = new KubernetesEndpoints({ ...registries(), address: '127.0.0.2', port: s.server.port, log: silentLogger });
    await other.reconcile();
    // a server that stopped renewing a minute ago
    await s.server.registry('coordination.k8s.io', 'leases').create('kube-system', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'apiserver-endpoint-gone', namespace: 'kube-system', labels: { 'skiff.dev/apiserver-endpoint': 'true' } },
      spec: { holderIdentity: '127.0.0.3:6443', leaseDurationSeconds: 15, renewTime: microTime(new Date(Date.now() - 60_000)) },
    });
    await other.reconcile();
    expect(await addresses()).toEqual([own, `127.0.0.2:${s.server.port}`]);
    // nothing changed: nothing written
    const slice = () => s.server.registry('discovery.k8s.io', 'endpointslices').get('default', 'kubernetes');
    const before = [(await endpoints()).metadata.resourceVersion, (await slice()).metadata.resourceVersion];
    await other.reconcile();
    expect([(await endpoints()).metadata.resourceVersion, (await slice()).metadata.resourceVersion]).toEqual(before);
    await other.stop();
    expect(await addresses()).toEqual([own]);
  });
});
