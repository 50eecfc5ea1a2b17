import type { Pod } from 'kubernetes-types/core/v1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../apimachinery/index.ts';
import { Prober } from './prober.ts';

const container = { name: 'c', image: 'busybox', readinessProbe: { exec: { command: ['true'] }, periodSeconds: 3600, initialDelaySeconds: 3600 } };

function pod(status?: Pod['status']): Pod {
  return { metadata: { uid: 'u1', name: 'p', namespace: 'ns' }, spec: { containers: [container] }, ...(status ? { status } : {}) };
}

const running = (id: string, ready: boolean) => ({
  containerStatuses: [{ name: 'c', image: 'busybox', imageID: '', restartCount: 0, containerID: `containerd://${id}`, ready, state: { running: {} } }],
});

describe('Prober', () => {
  const probers: Prober[] = [];
  const newProber = () => {
    const p = new Prober({ execSync: async () => ({ exitCode: 0 }), changed: () => {}, kill: () => {}, event: () => {}, log: silentLogger });
    probers.push(p);
    return p;
  };
  afterEach(() => {
    for (const p of probers.splice(0)) p.remove('u1');
  });

  it('starts a new container not ready until its readiness probe passes', () => {
    const prober = newProber();
    prober.update(pod(), '10.0.0.2', new Map([['c', 'abc']]));
    expect(prober.ready('u1', container, 'abc')).toBe(false);
  });

  it('keeps the readiness the status reports for the same running container (an agent restart adopting it)', () => {
    const prober = newProber();
    prober.update(pod(running('abc', true)), '10.0.0.2', new Map([['c', 'abc']]));
    expect(prober.ready('u1', container, 'abc')).toBe(true);
  });

  it('does not carry readiness over to another container of that name, nor a readiness the status denies', () => {
    const replaced = newProber();
    replaced.update(pod(running('old', true)), '10.0.0.2', new Map([['c', 'new']]));
    expect(replaced.ready('u1', container, 'new')).toBe(false);
    const unready = newProber();
    unready.update(pod(running('abc', false)), '10.0.0.2', new Map([['c', 'abc']]));
    expect(unready.ready('u1', container, 'abc')).toBe(false);
  });
});
