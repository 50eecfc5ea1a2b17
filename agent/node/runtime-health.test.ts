import { describe, expect, it } from 'vitest';
import type { StatusResponse } from '../cri/index.ts';
import { runtimeHealth } from './runtime-health.ts';

const status =
  (ready: boolean, message = '') =>
  async () =>
    ({ status: { conditions: [{ type: 'RuntimeReady', status: ready, reason: ready ? '' : 'Down', message }] } }) as unknown as StatusResponse;

describe('runtime health', () => {
  it('is ready with a ready runtime and a network config that loads, and says why not otherwise', async () => {
    expect(await runtimeHealth({ status: status(true), loadNetwork: async () => ({}) })()).toEqual({
      runtimeReady: true,
      networkReady: true,
      message: '',
    });
    const down = await runtimeHealth({
      status: async () => Promise.reject(new Error('connection refused')),
      loadNetwork: async () => ({}),
    })();
    expect(down).toMatchObject({ runtimeReady: false, message: 'container runtime is down: connection refused' });
    const noNet = await runtimeHealth({
      status: status(true),
      loadNetwork: async () => Promise.reject(new Error('no networks found in /etc/cni/net.d')),
    })();
    expect(noNet).toMatchObject({
      runtimeReady: true,
      networkReady: false,
      message:
        'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: no networks found in /etc/cni/net.d',
    });
  });
});
