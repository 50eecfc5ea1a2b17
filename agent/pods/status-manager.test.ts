import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { silentLogger, type RestClient } from '../../apimachinery/index.ts';
import { StatusManager } from './status-manager.ts';

const pod = { metadata: { namespace: 'default', name: 'web', uid: 'u1' } } as Pod;

function fakeClient() {
  const patches: unknown[] = [];
  const client = { patch: async (_ref: unknown, body: unknown) => void patches.push(body) } as unknown as RestClient;
  return { client, patches };
}

describe('status manager', () => {
  it('holds the newest status of each pod, sends it once, and again only when told the API object changed', async () => {
    const { client, patches } = fakeClient();
    const status = new StatusManager(client, silentLogger);
    expect(status.latest('u1')).toBeUndefined();
    status.set(pod, { phase: 'Pending' });
    status.set(pod, { phase: 'Running' });
    expect(status.latest('u1')).toEqual({ phase: 'Running' });
    await status.flushPod('u1');
    expect(patches).toEqual([{ metadata: { uid: 'u1' }, status: { phase: 'Running' } }]);
    // the same status again: nothing to send, but it stays the pod's newest
    status.set(pod, { phase: 'Running' });
    await status.flushPod('u1');
    expect(patches).toHaveLength(1);
    status.resend('u1');
    status.set(pod, { phase: 'Running' });
    await status.flushPod('u1');
    expect(patches).toHaveLength(2);
    status.forget('u1');
    expect(status.latest('u1')).toBeUndefined();
  });
});
