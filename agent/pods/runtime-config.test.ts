import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { containerEnv, type PodEnvironment } from './runtime-config.ts';

const env: PodEnvironment = { nodeName: 'n1', hostIP: '192.0.2.10', clusterDNS: [], clusterDomain: 'cluster.local', hostDns: { servers: [], searches: [], options: [] }, podLogsDir: '/tmp' };

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
    const vars = containerEnv(pod, container, env, '10.244.1.5', { from: [{ key: 'APP_MODE', value: 'fast' }], values: new Map([['FROM_CM', 'v=1']]) });
    expect(vars.map((kv) => [kv.key, Buffer.from(kv.value).toString()])).toEqual([['APP_MODE', 'fast'], ['PLAIN', 'a b.c'], ['POD_IP', '10.244.1.5'], ['FROM_CM', 'v=1']]);
    expect(Buffer.isBuffer(vars[0]?.value)).toBe(true);
  });
});
