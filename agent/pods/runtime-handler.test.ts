import type { Pod } from 'kubernetes-types/core/v1.js';
import type { RuntimeClass } from 'kubernetes-types/node/v1.js';
import { describe, expect, it } from 'vitest';
import type { Informer } from '../../apimachinery/index.ts';
import { runtimeHandlers } from './runtime-handler.ts';

const pod = (runtimeClassName?: string): Pod => ({ metadata: { name: 'p' }, spec: { containers: [], runtimeClassName } });

describe('runtime handlers', () => {
  it("gives a pod its class's handler, none without a class, and the kubelet's words for a class not held", async () => {
    const classes = new Map<string, RuntimeClass>([['fast', { metadata: { name: 'fast' }, handler: 'crun' }]]);
    const informer = { hasSynced: async () => {}, get: (k: string) => classes.get(k) } as unknown as Informer<RuntimeClass>;
    const handlerOf = runtimeHandlers(informer);
    expect(await handlerOf(pod('fast'))).toBe('crun');
    expect(await handlerOf(pod())).toBe('');
    await expect(handlerOf(pod('gone'))).rejects.toThrow('RuntimeClass "gone" not found');
  });

  it('does not wait for ever on a server that never lists the classes', async () => {
    const never = { hasSynced: () => new Promise(() => {}), get: () => undefined } as unknown as Informer<RuntimeClass>;
    await expect(runtimeHandlers(never, 10)(pod('fast'))).rejects.toThrow('RuntimeClass "fast" not found');
  });
});
