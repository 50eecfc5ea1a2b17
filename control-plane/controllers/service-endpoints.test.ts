import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { resolvePorts, serviceEndpoints } from './service-endpoints.ts';

const svc = (ports: NonNullable<Service['spec']>['ports'], publishNotReadyAddresses = false): Service => ({
  metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { app: 'web' }, ports, publishNotReadyAddresses },
});
const pod = (name: string, opts: { ip?: string; ready?: boolean; deleting?: boolean; phase?: string; httpPort?: number } = {}): Pod => ({
  metadata: { name, namespace: 'default', labels: { app: 'web' }, ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { containers: [{ name: 'c', ports: opts.httpPort ? [{ name: 'http', containerPort: opts.httpPort }] : [] }] },
  status: { phase: opts.phase ?? 'Running', podIP: opts.ip, conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
});

describe('service endpoints', () => {
  it('resolves numeric and named target ports per pod', () => {
    const s = svc([
      { name: 'web', port: 80, targetPort: 'http' },
      { name: 'metrics', port: 9090 },
    ]);
    expect(resolvePorts(s, pod('a', { httpPort: 8080 }))).toEqual([
      { name: 'web', protocol: 'TCP', port: 8080 },
      { name: 'metrics', protocol: 'TCP', port: 9090 },
    ]);
    // a pod without the named port serves only the other one
    expect(resolvePorts(s, pod('b'))).toEqual([{ name: 'metrics', protocol: 'TCP', port: 9090 }]);
  });

  it('groups pods by port mapping and reports ready, serving and terminating', () => {
    const groups = serviceEndpoints(svc([{ port: 80, targetPort: 'http' }]), [
      pod('a', { ip: '10.0.0.1', httpPort: 8080 }),
      pod('b', { ip: '10.0.0.2', httpPort: 8081, ready: false }),
      pod('c', { ip: '10.0.0.3', httpPort: 8080, deleting: true }),
      pod('d', { httpPort: 8080 }),
      pod('e', { ip: '10.0.0.5', httpPort: 8080, phase: 'Succeeded' }),
    ]);
    expect(groups.map((g) => [g.ports[0]?.port, g.endpoints.map((e) => [e.ip, e.ready, e.serving, e.terminating])])).toEqual([
      [
        8080,
        [
          ['10.0.0.1', true, true, false],
          ['10.0.0.3', false, true, true],
        ],
      ],
      [8081, [['10.0.0.2', false, false, false]]],
    ]);
  });

  it('counts unready pods as ready with publishNotReadyAddresses', () => {
    const [group] = serviceEndpoints(svc([{ port: 80 }], true), [pod('a', { ip: '10.0.0.1', ready: false })]);
    expect(group?.endpoints[0]).toMatchObject({ ready: true, serving: true });
  });
});
