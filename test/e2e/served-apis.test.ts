// The smaller built-in APIs Kubernetes 1.34 serves, with the real kubectl
// (HorizontalPodAutoscaler's controller has an e2e of its own):
// listed in discovery, stored as written, refused with Kubernetes' field
// errors where invalid; the server publishes its service range as the
// `kubernetes` ServiceCIDR and makes API Priority and Fairness' mandatory
// FlowSchemas and priority levels.
import { describe, expect, it } from 'vitest';
import { useTestApiServer } from '../harness/api-server.ts';

const api = useTestApiServer('sk-apis-', ['--disable-scheduler', '--disable-controllers']);

const VALID = `
apiVersion: networking.k8s.io/v1
kind: ServiceCIDR
metadata: {name: extra}
spec: {cidrs: [10.200.0.0/16]}
---
apiVersion: networking.k8s.io/v1
kind: IPAddress
metadata: {name: 10.200.0.10}
spec: {parentRef: {group: '', resource: services, namespace: default, name: web}}
---
apiVersion: storage.k8s.io/v1
kind: VolumeAttributesClass
metadata: {name: gold}
driverName: csi.example.com
parameters: {iops: '3000'}
---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: sandboxed}
handler: crun
---
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: gpu.example.com}
spec:
  selectors: [{cel: {expression: 'device.driver == "gpu.example.com"'}}]
---
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata: {name: one-gpu, namespace: default}
spec:
  spec:
    devices:
      requests: [{name: gpu, exactly: {deviceClassName: gpu.example.com}}]
---
apiVersion: resource.k8s.io/v1
kind: ResourceSlice
metadata: {name: node-a-gpus}
spec:
  driver: gpu.example.com
  pool: {name: node-a, generation: 1, resourceSliceCount: 1}
  nodeName: node-a
  devices: [{name: gpu-0}]
`;

describe('the smaller built-in APIs', () => {
  it('lists them, stores them as written, and publishes the service range as a ServiceCIDR', async () => {
    const resources = await api.kubectl('api-resources', '-o', 'name');
    for (const r of [
      'servicecidrs.networking.k8s.io',
      'ipaddresses.networking.k8s.io',
      'volumeattributesclasses.storage.k8s.io',
      'runtimeclasses.node.k8s.io',
      'deviceclasses.resource.k8s.io',
      'resourceclaims.resource.k8s.io',
      'resourceclaimtemplates.resource.k8s.io',
      'resourceslices.resource.k8s.io',
      'horizontalpodautoscalers.autoscaling',
      'replicationcontrollers',
      'flowschemas.flowcontrol.apiserver.k8s.io',
      'prioritylevelconfigurations.flowcontrol.apiserver.k8s.io',
    ]) {
      expect(resources.split('\n')).toContain(r);
    }
    const applied = await api.kubectlResult(['apply', '--server-side', '-f', '-'], VALID);
    expect(applied.code, applied.stderr).toBe(0);
    expect(await api.kubectl('get', 'volumeattributesclass', 'gold', '-o', 'jsonpath={.driverName}/{.parameters.iops}')).toBe('csi.example.com/3000');
    expect(await api.kubectl('get', 'resourceslice', 'node-a-gpus', '-o', 'jsonpath={.spec.devices[0].name}')).toBe('gpu-0');
    expect(await api.kubectl('get', 'servicecidr', 'kubernetes', '-o', 'jsonpath={.spec.cidrs[0]}')).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
    // API Priority and Fairness' mandatory configuration
    expect(await api.kubectl('get', 'flowschemas', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.matchingPrecedence} {end}')).toBe(
      'catch-all=10000 exempt=1 ',
    );
    expect(await api.kubectl('get', 'prioritylevelconfiguration', 'catch-all', '-o', 'jsonpath={.spec.type}/{.spec.limited.nominalConcurrencyShares}')).toBe(
      'Limited/5',
    );
  });

  it("refuses what is invalid with Kubernetes' field errors, and what may not change", async () => {
    const refused = async (manifest: string) => {
      const r = await api.kubectlResult(['apply', '-f', '-'], manifest);
      expect(r.code).not.toBe(0);
      return r.stderr;
    };
    expect(await refused('apiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata: {name: bad}\nspec: {cidrs: [10.300.0.0/16]}\n')).toContain(
      'spec.cidrs[0]: Invalid value: "10.300.0.0/16": must be a valid CIDR value',
    );
    expect(
      await refused('apiVersion: networking.k8s.io/v1\nkind: IPAddress\nmetadata: {name: not-an-ip}\nspec: {parentRef: {resource: services, name: x}}\n'),
    ).toContain('metadata.name: Invalid value: "not-an-ip": must be a valid IP address');
    expect(
      await refused(
        'apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: FlowSchema\nmetadata: {name: late}\nspec: {priorityLevelConfiguration: {name: catch-all}, matchingPrecedence: 20000}\n',
      ),
    ).toContain('spec.matchingPrecedence: Invalid value: 20000: must be between 1 and 10000 inclusively');
    expect(await refused('apiVersion: storage.k8s.io/v1\nkind: VolumeAttributesClass\nmetadata: {name: nodriver}\n')).toContain('driverName: Required value');
    expect(
      await refused(
        'apiVersion: resource.k8s.io/v1\nkind: ResourceSlice\nmetadata: {name: nowhere}\nspec: {driver: d.example.com, pool: {name: p, generation: 1, resourceSliceCount: 1}}\n',
      ),
    ).toContain('exactly one of `nodeName`, `nodeSelector`, `allNodes`, `perDeviceNodeSelection` is required');
    const changed = await api.kubectlResult(['patch', 'volumeattributesclass', 'gold', '--type=merge', '-p', '{"parameters":{"iops":"9000"}}']);
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toContain('parameters: Invalid value');
    expect(changed.stderr).toContain('field is immutable');
  });

  it('takes an autoscaler from kubectl autoscale, which sends it in protobuf', async () => {
    await api.kubectl('create', 'deployment', 'scaled', '--image=busybox', '-n', 'default');
    const made = await api.kubectlResult(['autoscale', 'deployment', 'scaled', '--cpu=50%', '--min=1', '--max=3', '-n', 'default']);
    expect(made.code, made.stderr).toBe(0);
    expect(
      await api.kubectl(
        'get',
        'hpa',
        'scaled',
        '-n',
        'default',
        '-o',
        'jsonpath={.spec.scaleTargetRef.kind}/{.spec.minReplicas}/{.spec.maxReplicas}/{.spec.metrics[0].resource.target.averageUtilization}',
      ),
    ).toBe('Deployment/1/3/50');
  });

  it('serves autoscalers at autoscaling/v1 too, CPU only, carrying the rest in annotations so a v1 round trip loses nothing', async () => {
    const v1 = await api.kubectlResult(
      ['apply', '-f', '-'],
      'apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: old-style, namespace: default}\nspec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: scaled}, maxReplicas: 4, targetCPUUtilizationPercentage: 60}\n',
    );
    expect(v1.code, v1.stderr).toBe(0);
    expect(
      await api.kubectl('get', 'hpa', 'old-style', '-n', 'default', '-o', 'jsonpath={.apiVersion} {.spec.metrics[0].resource.target.averageUtilization}'),
    ).toBe('autoscaling/v2 60');
    const v2 = await api.kubectlResult(
      ['apply', '-f', '-'],
      `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: rich, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: scaled}
  maxReplicas: 5
  metrics:
  - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}
  - {type: Resource, resource: {name: memory, target: {type: AverageValue, averageValue: 100Mi}}}
  behavior: {scaleDown: {stabilizationWindowSeconds: 60}}
`,
    );
    expect(v2.code, v2.stderr).toBe(0);
    const asV1 = JSON.parse(await api.kubectl('get', 'horizontalpodautoscalers.v1.autoscaling', 'rich', '-n', 'default', '-o', 'json'));
    expect(asV1.apiVersion).toBe('autoscaling/v1');
    expect(asV1.spec.targetCPUUtilizationPercentage).toBe(70);
    expect(JSON.parse(asV1.metadata.annotations['autoscaling.alpha.kubernetes.io/metrics'])[0].resource.name).toBe('memory');
    // written back through v1 with a new maximum: the memory metric and the behavior are still there
    asV1.spec.maxReplicas = 6;
    const replaced = await api.kubectlResult(['replace', '-f', '-'], JSON.stringify(asV1));
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(
      await api.kubectl(
        'get',
        'hpa',
        'rich',
        '-n',
        'default',
        '-o',
        'jsonpath={.spec.maxReplicas} {.spec.metrics[*].resource.name} {.spec.behavior.scaleDown.stabilizationWindowSeconds}',
      ),
    ).toBe('6 cpu memory 60');
    // and the annotations that carried them through v1 are not stored
    const stored = JSON.parse(await api.kubectl('get', 'hpa', 'rich', '-n', 'default', '-o', 'json'));
    expect(Object.keys(stored.metadata.annotations ?? {}).filter((k) => k.startsWith('autoscaling.alpha.kubernetes.io/'))).toEqual([]);
  });
});
