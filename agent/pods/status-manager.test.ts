import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import type { Logger, RestClient } from '../../apimachinery/index.ts';
import { StatusManager } from './status-manager.ts';

describe('StatusManager', () => {
  it("names a condition's reason and message null once it has none, so the patch takes the old ones away", async () => {
    const sent: unknown[] = [];
    const client = { patch: async (_r: unknown, body: unknown) => void sent.push(body) } as unknown as RestClient;
    const manager = new StatusManager(client, { warn: () => {} } as unknown as Logger);
    const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u' } };
    manager.set(pod, {
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [a]' },
      ],
    });
    await manager.flushPod('u');
    expect(sent).toEqual([
      {
        metadata: { uid: 'u' },
        status: {
          conditions: [
            { type: 'Ready', status: 'True', reason: null, message: null },
            { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [a]' },
          ],
        },
      },
    ]);
  });
});
