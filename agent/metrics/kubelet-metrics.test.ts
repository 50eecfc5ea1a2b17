import { describe, expect, it } from 'vitest';
import { KubeletMetrics, operationType } from './kubelet-metrics.ts';
import { Registry } from 'prom-client';

const metrics = () => new KubeletMetrics({ nodeName: 'n1', registry: new Registry() });

describe('kubelet metrics', () => {
  it("spells CRI methods as the kubelet's operation_type", () => {
    expect(
      ['RunPodSandbox', 'ListPodSandbox', 'PodSandboxStatus', 'CreateContainer', 'ExecSync', 'ImageFsInfo', 'ListContainerStats'].map(operationType),
    ).toEqual(['run_podsandbox', 'list_podsandbox', 'podsandbox_status', 'create_container', 'exec_sync', 'image_fs_info', 'list_container_stats']);
  });

  it('counts runtime operations, their durations and their failures', async () => {
    const m = metrics();
    m.runtimeOperation('StartContainer', 0.02, false);
    m.runtimeOperation('StartContainer', 0.5, true);
    const text = await m.registry.metrics();
    expect(text).toMatch(/^kubelet_runtime_operations_total\{operation_type="start_container"\} 2$/m);
    expect(text).toMatch(/^kubelet_runtime_operations_errors_total\{operation_type="start_container"\} 1$/m);
    expect(text).toMatch(/^kubelet_runtime_operations_duration_seconds_bucket\{le="0.03125",operation_type="start_container"\} 1$/m);
    expect(text).toMatch(/^kubelet_node_name\{node="n1"\} 1$/m);
  });

  it('keeps probe results on their own registry, and drops a pod’s series with it', async () => {
    const m = metrics();
    const probe = { probeType: 'Readiness', container: 'web', pod: 'p', namespace: 'default', podUid: 'u1' } as const;
    m.probed({ ...probe, result: 'successful' });
    m.probed({ ...probe, result: 'successful' });
    m.probed({ ...probe, result: 'failed' });
    m.probed({ ...probe, pod: 'q', podUid: 'u2', result: 'failed' });
    let text = await m.probes.metrics();
    expect(text).toContain('prober_probe_total{probe_type="Readiness",result="successful",container="web",pod="p",namespace="default",pod_uid="u1"} 2');
    expect(await m.registry.metrics()).not.toContain('prober_probe_total');
    m.forgetProbes('u1');
    text = await m.probes.metrics();
    expect(text).not.toContain('pod_uid="u1"');
    expect(text).toContain('pod_uid="u2"');
  });

  it('shows what the last relist found, and counts evictions by signal', async () => {
    const m = metrics();
    m.relisted(0.01, { readyPods: 3, containers: { created: 1, running: 4, exited: 2, unknown: 0 } });
    m.evicted('memory.available');
    const text = await m.registry.metrics();
    expect(text).toMatch(/^kubelet_running_pods 3$/m);
    expect(text).toMatch(/^kubelet_running_containers\{container_state="running"\} 4$/m);
    expect(text).toMatch(/^kubelet_running_containers\{container_state="exited"\} 2$/m);
    expect(text).toMatch(/^kubelet_pleg_relist_duration_seconds_count 1$/m);
    expect(text).toMatch(/^kubelet_evictions\{eviction_signal="memory.available"\} 1$/m);
  });

  it("shows each claim's volume stats, read at most once in a while however often it is scraped", async () => {
    const m = metrics();
    let reads = 0;
    m.showVolumes(async () => {
      reads++;
      return [{ namespace: 'shop', claim: 'data', capacityBytes: 1000, usedBytes: 400, availableBytes: 600, inodes: 10, inodesFree: 7, inodesUsed: 3 }];
    });
    const text = await m.registry.metrics();
    expect(text).toMatch(/^kubelet_volume_stats_capacity_bytes\{namespace="shop",persistentvolumeclaim="data"\} 1000$/m);
    expect(text).toMatch(/^kubelet_volume_stats_used_bytes\{namespace="shop",persistentvolumeclaim="data"\} 400$/m);
    expect(text).toMatch(/^kubelet_volume_stats_inodes_free\{namespace="shop",persistentvolumeclaim="data"\} 7$/m);
    await m.registry.metrics();
    expect(reads).toBe(1);
  });
});
