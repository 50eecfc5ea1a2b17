// Conformance tests of Service types, in our words (titles are the upstream
// names): changing a Service's type allocates and releases cluster IPs and
// node ports exactly as Kubernetes does: no stale IP, no leaked node port.
import { describe, expect, it } from 'vitest';
import { useTestApiServer } from '../harness/api-server.ts';

const api = useTestApiServer('sk-svct-', ['--disable-scheduler', '--disable-controllers', '--no-cluster-dns']);

const get = async (name: string, path: string) => api.kubectl('get', 'service', name, '-o', `jsonpath=${path}`);
const patch = (name: string, spec: object) => api.kubectl('patch', 'service', name, '--type=merge', '-p', JSON.stringify({ spec }));
const IP = /^10\.\d+\.\d+\.\d+$/;

describe('[sig-network] Services', () => {
  it('[sig-network] Services should be able to change the type from ExternalName to ClusterIP [Conformance]', async () => {
    await api.kubectl('create', 'service', 'externalname', 'ext-to-ip', '--external-name=foo.example.com');
    expect(await get('ext-to-ip', '{.spec.clusterIP}')).toBe('');
    await patch('ext-to-ip', { type: 'ClusterIP', externalName: null, ports: [{ port: 80, protocol: 'TCP' }] });
    expect(await get('ext-to-ip', '{.spec.clusterIP}')).toMatch(IP);
  });

  it('[sig-network] Services should be able to change the type from ClusterIP to ExternalName [Conformance]', async () => {
    await api.kubectl('create', 'service', 'clusterip', 'ip-to-ext', '--tcp=80:80');
    const ip = await get('ip-to-ext', '{.spec.clusterIP}');
    expect(ip).toMatch(IP);
    await patch('ip-to-ext', { type: 'ExternalName', externalName: 'foo.example.com' });
    expect(await get('ip-to-ext', '{.spec.clusterIP}{.spec.clusterIPs}')).toBe('');
    // the address is free again: a new Service may ask for it
    const taken = await api.kubectlResult(
      ['create', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'takes-ip' }, spec: { clusterIP: ip, ports: [{ port: 80 }] } }),
    );
    expect(taken.code, taken.stderr).toBe(0);
  });

  it('[sig-network] Services should be able to change the type from ExternalName to NodePort [Conformance]', async () => {
    await api.kubectl('create', 'service', 'externalname', 'ext-to-np', '--external-name=foo.example.com');
    await patch('ext-to-np', { type: 'NodePort', externalName: null, ports: [{ port: 80, protocol: 'TCP' }] });
    expect(await get('ext-to-np', '{.spec.clusterIP}')).toMatch(IP);
    expect(Number(await get('ext-to-np', '{.spec.ports[0].nodePort}'))).toBeGreaterThanOrEqual(30000);
  });

  it('[sig-network] Services should be able to change the type from NodePort to ExternalName [Conformance]', async () => {
    await api.kubectl('create', 'service', 'nodeport', 'np-to-ext', '--tcp=80:80');
    const port = Number(await get('np-to-ext', '{.spec.ports[0].nodePort}'));
    await patch('np-to-ext', { type: 'ExternalName', externalName: 'foo.example.com' });
    expect(await get('np-to-ext', '{.spec.clusterIP}{.spec.ports[0].nodePort}')).toBe('');
    // the node port is free again
    const reuse = await api.kubectlResult(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'takes-port' },
        spec: { type: 'NodePort', ports: [{ port: 80, nodePort: port }] },
      }),
    );
    expect(reuse.code, reuse.stderr).toBe(0);
  });

  it('gives a node port up when a NodePort Service becomes ClusterIP, and takes one for a port added to a NodePort Service', async () => {
    await api.kubectl('create', 'service', 'nodeport', 'np-to-ip', '--tcp=80:80');
    const port = Number(await get('np-to-ip', '{.spec.ports[0].nodePort}'));
    await patch('np-to-ip', { type: 'ClusterIP' });
    expect(await get('np-to-ip', '{.spec.ports[0].nodePort}')).toBe('');
    await patch('np-to-ip', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] });
    expect(Number(await get('np-to-ip', '{.spec.ports[0].nodePort}'))).toBe(port);
    await api.kubectl(
      'patch',
      'service',
      'np-to-ip',
      '--type=json',
      '-p',
      JSON.stringify([{ op: 'add', path: '/spec/ports/-', value: { name: 'b', port: 81 } }]),
    );
    expect(Number(await get('np-to-ip', '{.spec.ports[1].nodePort}'))).toBeGreaterThanOrEqual(30000);
  });
});
