import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import type { ContainerStats, PodSandboxStats } from '../../cri-protos/types.ts';
import { CadvisorMetrics } from './cadvisor.ts';

const pod: Pod = {
  metadata: { uid: 'u1', name: 'web-1', namespace: 'shop' },
  spec: {
    containers: [
      { name: 'app', image: 'registry.local/app:2', resources: { limits: { memory: '128Mi' } } },
      { name: 'side', image: 'busybox' },
    ],
  },
};
const v = (value: number) => ({ value });
const stats = (name: string, id: string, cpuNanos: number | null): ContainerStats => ({
  attributes: { id, metadata: { name, attempt: 0 }, labels: { 'io.kubernetes.pod.uid': 'u1', 'io.kubernetes.container.name': name }, annotations: {} },
  cpu: cpuNanos === null ? null : { timestamp: 1, usageCoreNanoSeconds: v(cpuNanos), usageNanoCores: null },
  memory: { timestamp: 1, workingSetBytes: v(2048), availableBytes: null, usageBytes: v(4096), rssBytes: v(1024), pageFaults: null, majorPageFaults: null },
  writableLayer: { timestamp: 1, fsId: null, usedBytes: v(512), inodesUsed: null },
});
const sandbox = (uid: string, network: NonNullable<PodSandboxStats['linux']>['network']): PodSandboxStats => ({
  attributes: { id: 's1', metadata: { name: 'web-1', uid, namespace: 'shop', attempt: 0 }, labels: { 'io.kubernetes.pod.uid': uid }, annotations: {} },
  linux: { cpu: null, memory: null, network, containers: [] },
});

describe("cAdvisor's container series", () => {
  it('names each running container by pod, namespace, container and image, from the runtime stats', async () => {
    let round = 0;
    const m = new CadvisorMetrics({
      containerStats: async () => [stats('app', 'c1', 2_500_000_000 * ++round), stats('side', 'c2', null), { ...stats('ghost', 'c3', 1), attributes: null }],
      sandboxStats: async () => [
        sandbox('u1', { timestamp: 1, defaultInterface: { name: 'eth0', rxBytes: v(100), rxErrors: v(0), txBytes: v(50), txErrors: v(0) }, interfaces: [] }),
        sandbox('unknown-pod', null),
      ],
      pods: () => [pod],
    });
    let text = await m.render();
    const app = '{container="app",image="registry.local/app:2",name="c1",namespace="shop",pod="web-1"}';
    expect(text).toContain(`container_cpu_usage_seconds_total${app} 2.5\n`);
    expect(text).toContain(`container_memory_working_set_bytes${app} 2048\n`);
    expect(text).toContain(`container_memory_rss${app} 1024\n`);
    expect(text).toContain(`container_memory_usage_bytes${app} 4096\n`);
    expect(text).toContain(`container_fs_usage_bytes${app} 512\n`);
    expect(text).toContain(`container_spec_memory_limit_bytes${app} 134217728\n`);
    expect(text).toContain('container_network_receive_bytes_total{interface="eth0",namespace="shop",pod="web-1"} 100\n');
    expect(text).toContain('container_network_transmit_bytes_total{interface="eth0",namespace="shop",pod="web-1"} 50\n');
    // a container that is not running (no CPU reading) and one of no known pod are left out
    expect(text).not.toContain('container="side"');
    expect(text).not.toContain('ghost');
    // each scrape shows the runtime's figures as they are then, not added to the last
    text = await m.render();
    expect(text).toContain(`container_cpu_usage_seconds_total${app} 5\n`);
  });
});
