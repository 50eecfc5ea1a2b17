import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { formatQuantity } from './quantity.ts';
import { podRequest, qosClass } from './pod-resources.ts';

describe('formatQuantity', () => {
  it.each([
    [104857600, 'BinarySI', '100Mi'],
    [1536, 'BinarySI', '1536'],
    [2 * 1024 ** 3, 'BinarySI', '2Gi'],
    [32000, 'DecimalSI', '32k'],
    [32468, 'DecimalSI', '32468'],
    [0, 'DecimalSI', '0'],
  ] as const)('%d as %s is %s', (n, format, text) => expect(formatQuantity(n, format)).toBe(text));
});

describe('pod requests and QoS', () => {
  const pod = (containers: object[], initContainers: object[] = []): Pod => ({ spec: { containers, initContainers } }) as Pod;

  it('sums containers, takes a larger init container, adds overhead', () => {
    const p = pod(
      [
        { name: 'a', resources: { requests: { memory: '10Mi' } } },
        { name: 'b', resources: { requests: { memory: '20Mi' } } },
      ],
      [{ name: 'i', resources: { requests: { memory: '50Mi' } } }],
    );
    expect(podRequest(p, 'memory')).toBe(50 * 2 ** 20);
    p.spec!.overhead = { memory: '1Mi' };
    expect(podRequest(p, 'memory')).toBe(51 * 2 ** 20);
    expect(podRequest(p, 'ephemeral-storage')).toBe(0);
  });

  it('classifies as Kubernetes does', () => {
    expect(qosClass({ containers: [{ name: 'a' }] })).toBe('BestEffort');
    expect(qosClass({ containers: [{ name: 'a', resources: { requests: { memory: '10Mi' } } }] })).toBe('Burstable');
    expect(qosClass({ containers: [{ name: 'a', resources: { requests: { cpu: '1', memory: '10Mi' }, limits: { cpu: '1', memory: '10Mi' } } }] })).toBe(
      'Guaranteed',
    );
  });
});
