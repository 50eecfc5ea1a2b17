import type { Node } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { silentLogger, type RestClient } from '../../apimachinery/index.ts';
import type { MachineInfo } from './machine.ts';
import { NodeStatusReporter } from './node-status.ts';

const machine: MachineInfo = {
  cpus: 2,
  memoryBytes: 4 << 30,
  ephemeralStorageBytes: 10 << 30,
  machineID: 'm',
  systemUUID: 'u',
  bootID: 'b',
  kernelVersion: 'k',
  osImage: 'Debian',
  architecture: 'amd64',
  hostname: 'n1',
};
const inputs = {
  nodeName: 'n1',
  address: '127.0.0.1',
  port: 10250,
  podCIDR: '',
  maxPods: 110,
  runtimeVersion: 'containerd://1',
  systemReserved: {},
  kubeReserved: {},
  evictionHard: {},
};

/** An API server holding one Node; `down` makes every call fail as an unreachable server would. */
function fakeApi() {
  const api = { node: { metadata: { name: 'n1' }, status: {} } as Node, patches: 0, down: false };
  const client = {
    get: async () => {
      if (api.down) throw new Error('connect ECONNREFUSED');
      return structuredClone(api.node);
    },
    patch: async (_ref: unknown, body: { status: Node['status'] }) => {
      if (api.down) throw new Error('connect ECONNREFUSED');
      api.patches++;
      api.node = { ...api.node, status: body.status };
      return structuredClone(api.node);
    },
  } as unknown as RestClient;
  return { api, client };
}

describe('node status reporter', () => {
  const healthy = async () => ({ runtimeReady: true, networkReady: true, message: '' });

  it('sends nothing when nothing changed, and at once when the server holds other conditions or answers again after failing', async () => {
    const { api, client } = fakeApi();
    const reporter = new NodeStatusReporter({ client, machine, inputs, health: healthy, log: silentLogger, reportFrequencyMs: 300_000 });
    await reporter.sync();
    expect(api.patches).toBe(1);
    await reporter.sync();
    expect(api.patches).toBe(1);

    // the node lifecycle controller marked the node Unknown meanwhile
    api.node = {
      ...api.node,
      status: { ...api.node.status, conditions: (api.node.status?.conditions ?? []).map((c) => ({ ...c, status: 'Unknown', reason: 'NodeStatusUnknown' })) },
    };
    await reporter.sync();
    expect(api.patches).toBe(2);
    expect(api.node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');

    api.down = true;
    await expect(reporter.sync()).rejects.toThrow(/ECONNREFUSED/);
    api.down = false;
    await reporter.sync();
    expect(api.patches).toBe(3);
    await reporter.sync();
    expect(api.patches).toBe(3);
  });

  it('sends pressure conditions the moment the eviction manager sets or clears them', async () => {
    const { api, client } = fakeApi();
    const reporter = new NodeStatusReporter({ client, machine, inputs, health: healthy, log: silentLogger, reportFrequencyMs: 300_000 });
    await reporter.sync();
    const memoryPressure = () => api.node.status?.conditions?.find((c) => c.type === 'MemoryPressure');
    expect(memoryPressure()).toMatchObject({ status: 'False', reason: 'KubeletHasSufficientMemory' });
    await reporter.pressureChanged(new Set(['MemoryPressure']));
    expect(api.patches).toBe(2);
    expect(memoryPressure()).toMatchObject({ status: 'True', reason: 'KubeletHasInsufficientMemory' });
    await reporter.pressureChanged(new Set());
    expect(memoryPressure()).toMatchObject({ status: 'False' });
  });
});
