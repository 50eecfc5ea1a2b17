import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { formatQuantity } from './quantity.ts';
import { podRequest, qosClass, resourceFieldValue } from './pod-resources.ts';

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

describe('resourceFieldRef values', () => {
  const pod = {
    spec: { containers: [{ name: 'c', resources: { limits: { cpu: '500m' }, requests: { memory: '32Mi', cpu: '250m' } } }] },
  } as unknown as Pod;
  const value = (resource: string, divisor?: string) =>
    resourceFieldValue({ pod, containerName: 'c', resource, divisor, allocatable: { cpu: '2', memory: '2Gi' } });

  it("divides the container's limit or request by the divisor, rounding up, and reads an unset limit as the node's allocatable", () => {
    expect(value('limits.cpu', '1m')).toBe('500');
    expect(value('limits.cpu')).toBe('1');
    expect(value('requests.cpu', '1m')).toBe('250');
    expect(value('requests.memory', '1Mi')).toBe('32');
    expect(value('limits.memory', '1Mi')).toBe('2048');
  });
});
