import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { containerConfig, sandboxConfig, serviceLinkEnv, type PodEnvironment } from './runtime-config.ts';

const env: PodEnvironment = {
  nodeName: 'n1',
  hostIP: '192.0.2.10',
  clusterDNS: [],
  clusterDomain: 'cluster.local',
  hostDns: { servers: [], searches: [], options: [] },
  podLogsDir: '/tmp',
};

describe('container environment', () => {
  it('puts envFrom first, then env with downward API and ConfigMap/Secret values, as bytes for CRI', () => {
    const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [] } };
    const container = {
      name: 'c',
      env: [
        { name: 'PLAIN', value: 'a b.c' },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'FROM_CM', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } },
        { name: 'MISSING_OPTIONAL', valueFrom: { secretKeyRef: { name: 's', key: 'k', optional: true } } },
      ],
    };
    const resolvedEnv = { from: [{ key: 'APP_MODE', value: 'fast' }], values: new Map([['FROM_CM', 'v=1']]) };
    const vars = containerConfig({ pod, container, attempt: 0, imageRef: 'busybox', env, podIP: '10.244.1.5', mounts: [], resolvedEnv }).envs ?? [];
    expect(vars.map((kv) => [kv.key, Buffer.from(kv.value).toString()])).toEqual([
      ['APP_MODE', 'fast'],
      ['PLAIN', 'a b.c'],
      ['POD_IP', '10.244.1.5'],
      ['FROM_CM', 'v=1'],
    ]);
    expect(Buffer.isBuffer(vars[0]?.value)).toBe(true);
  });
});

describe('service links', () => {
  const svc = (namespace: string, name: string, clusterIP: string, ports: ServicePort[]): Service => ({
    metadata: { namespace, name },
    spec: { clusterIP, ports },
  });
  const services = [
    svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]),
    svc('shop', 'web-front', '10.96.0.20', [
      { name: 'http', port: 80 },
      { name: 'dns', port: 53, protocol: 'UDP' },
    ]),
    svc('shop', 'headless', 'None', [{ port: 80 }]),
    svc('other', 'db', '10.96.0.30', [{ port: 5432 }]),
  ];
  const pod = (enableServiceLinks?: boolean): Pod => ({
    metadata: { namespace: 'shop', name: 'p' },
    spec: { containers: [], ...(enableServiceLinks === undefined ? {} : { enableServiceLinks }) },
  });
  const asMap = (env: { key: string; value: string }[]) => Object.fromEntries(env.map((e) => [e.key, e.value]));

  it("names every Service of the pod's namespace with a ClusterIP, and the API's own", () => {
    const env = asMap(serviceLinkEnv(services, pod()));
    expect(env).toMatchObject({
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
      KUBERNETES_PORT: 'tcp://10.96.0.1:443',
      WEB_FRONT_SERVICE_HOST: '10.96.0.20',
      WEB_FRONT_SERVICE_PORT: '80',
      WEB_FRONT_SERVICE_PORT_HTTP: '80',
      WEB_FRONT_SERVICE_PORT_DNS: '53',
      WEB_FRONT_PORT: 'tcp://10.96.0.20:80',
      WEB_FRONT_PORT_53_UDP: 'udp://10.96.0.20:53',
      WEB_FRONT_PORT_53_UDP_PROTO: 'udp',
      WEB_FRONT_PORT_53_UDP_PORT: '53',
      WEB_FRONT_PORT_53_UDP_ADDR: '10.96.0.20',
    });
    expect(Object.keys(env).filter((k) => k.startsWith('HEADLESS') || k.startsWith('DB_'))).toEqual([]);
  });

  it("keeps only the API's own when enableServiceLinks is false", () => {
    expect(Object.keys(asMap(serviceLinkEnv(services, pod(false)))).every((k) => k.startsWith('KUBERNETES_'))).toBe(true);
  });
});

describe('sandbox config', () => {
  it('marks the sandbox privileged when a container (an init one too) is, as the runtime requires for a privileged container', () => {
    const pod = (privileged: boolean): Pod => ({
      metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
      spec: { initContainers: [{ name: 'i', securityContext: { privileged } }], containers: [{ name: 'c' }] },
    });
    expect(sandboxConfig(pod(true), 0, env).linux?.securityContext?.privileged).toBe(true);
    expect(sandboxConfig(pod(false), 0, env).linux?.securityContext?.privileged).toBeUndefined();
  });
});
