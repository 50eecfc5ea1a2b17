import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import type { ContainerSample } from '../stats/index.ts';
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
const sample = (name: string, id: string, cpuSeconds: number, podUid = 'u1'): ContainerSample => ({
  id,
  name,
  podUid,
  cpuSeconds,
  workingSetBytes: 2048,
  usageBytes: 4096,
  rssBytes: 1024,
});

describe("cAdvisor's container series", () => {
  it('names each running container by pod, namespace, container and image; a scrape shows the latest reading', async () => {
    let now = 0;
    let round = 0;
    let layerReads = 0;
    const m = new CadvisorMetrics(
      {
        sample: async () => ({
          containers: [sample('app', 'c1', 2.5 * ++round), sample('ghost', 'c3', 1, 'unknown-pod')],
          networks: [{ podUid: 'u1', interface: 'eth0', rxBytes: 100, txBytes: 50 }],
        }),
        writableLayers: async () => {
          layerReads++;
          return new Map([['c1', 512 * layerReads]]);
        },
        pods: () => [pod],
      },
      () => now,
    );
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
    // a container of no pod this node runs is left out
    expect(text).not.toContain('ghost');
    // a scrape between readings shows the latest again; after the next reading, its figures (not added to the last)
    expect(await m.render()).toContain(`container_cpu_usage_seconds_total${app} 2.5\n`);
    await m.refresh();
    text = await m.render();
    expect(text).toContain(`container_cpu_usage_seconds_total${app} 5\n`);
    // the layers are read again only after a minute
    expect(layerReads).toBe(1);
    now = 61_000;
    await m.render();
    await new Promise((r) => setTimeout(r, 0));
    expect(layerReads).toBe(2);
    expect(await m.render()).toContain(`container_fs_usage_bytes${app} 1024\n`);
  });
});
