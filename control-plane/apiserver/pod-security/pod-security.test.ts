import type { PodSpec } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../apimachinery/index.ts';
import { admitPod, checkPodTemplate, DEFAULT_POD_SECURITY, evaluatePod, namespacePolicy, type PodSecurityConfig } from './index.ts';

const restrictedSpec: PodSpec = {
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [{ name: 'app', image: 'busybox', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
};
/** everything an attacker wants from a node: its namespaces, its root filesystem, root and SYS_ADMIN */
const attackerSpec: PodSpec = {
  hostPID: true,
  hostNetwork: true,
  volumes: [{ name: 'host', hostPath: { path: '/' } }],
  containers: [{ name: 'pwn', image: 'busybox', securityContext: { runAsUser: 0, privileged: true, capabilities: { add: ['SYS_ADMIN'] } } }],
};
const labels = (level: string, mode = 'enforce') => ({ [`pod-security.kubernetes.io/${mode}`]: level });

describe('Pod Security Standards checks', () => {
  it('words a restricted refusal as Kubernetes does, checks in the order of their ids', () => {
    const plain: PodSpec = { containers: [{ name: 'c', image: 'busybox' }] };
    expect(evaluatePod({ level: 'restricted', version: 'latest' }, {}, plain)).toEqual([
      'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)',
      'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"])',
      'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true)',
      'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    ]);
    expect(evaluatePod({ level: 'restricted', version: 'latest' }, {}, restrictedSpec)).toEqual([]);
  });

  it('refuses what baseline forbids, each reason once', () => {
    expect(evaluatePod({ level: 'baseline', version: 'latest' }, {}, attackerSpec)).toEqual([
      'non-default capabilities (container "pwn" must not include "SYS_ADMIN" in securityContext.capabilities.add)',
      'host namespaces (hostNetwork, hostPID)',
      'hostPath volumes (volume "host")',
      'privileged (container "pwn" must not set securityContext.privileged=true)',
    ]);
    // at restricted, hostPath is a restricted volume type and SYS_ADMIN an unrestricted capability, not said twice
    const restricted = evaluatePod({ level: 'restricted', version: 'latest' }, {}, attackerSpec);
    expect(restricted.filter((v) => v.startsWith('hostPath volumes') || v.startsWith('non-default capabilities'))).toEqual([]);
    expect(restricted).toContain('restricted volume types (volume "host" uses restricted volume type "hostPath")');
    expect(restricted).toContain('runAsUser=0 (container "pwn" must not set runAsUser=0)');
  });

  it('applies a check only from the version that brought it', () => {
    const plain: PodSpec = { containers: [{ name: 'c', image: 'busybox' }] };
    const at = (version: number) => evaluatePod({ level: 'restricted', version }, {}, plain).map((v) => v.split(' (')[0]);
    expect(at(21)).not.toContain('unrestricted capabilities');
    expect(at(22)).toContain('unrestricted capabilities');
    expect(at(18)).not.toContain('seccompProfile');
    const sysctl: PodSpec = { ...plain, securityContext: { sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '60' }] } };
    expect(evaluatePod({ level: 'baseline', version: 28 }, {}, sysctl)).toEqual(['forbidden sysctls (net.ipv4.tcp_keepalive_time)']);
    expect(evaluatePod({ level: 'baseline', version: 29 }, {}, sysctl)).toEqual([]);
  });
});

describe('namespace policy', () => {
  it('reads the labels over the defaults, fails closed on a level it cannot read, and lets warn follow an explicit enforce', () => {
    expect(namespacePolicy(undefined, {})).toEqual({
      enforce: { level: 'privileged', version: 'latest' },
      audit: { level: 'privileged', version: 'latest' },
      warn: { level: 'privileged', version: 'latest' },
    });
    expect(namespacePolicy({}, { enforce: 'baseline' }).enforce).toEqual({ level: 'baseline', version: 'latest' });
    expect(namespacePolicy(labels('strictest'), {}).enforce.level).toBe('restricted');
    expect(namespacePolicy({ ...labels('baseline'), 'pod-security.kubernetes.io/enforce-version': 'v1.22' }, {}).warn).toEqual({
      level: 'baseline',
      version: 22,
    });
    expect(namespacePolicy({ ...labels('baseline'), ...labels('restricted', 'warn') }, {}).warn.level).toBe('restricted');
  });
});

describe('PodSecurity admission', () => {
  const request = (spec: PodSpec, namespaceLabels: Record<string, string>, config: PodSecurityConfig = DEFAULT_POD_SECURITY) => ({
    config,
    namespaceLabels,
    namespace: 'team',
    user: 'alice',
    meta: { name: 'p' },
    spec,
    podName: 'p',
  });

  it('refuses with 403 and the message kubectl prints, and warns where only warn forbids', () => {
    let refused: unknown;
    try {
      admitPod(request(attackerSpec, labels('restricted')));
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe(403);
    expect((refused as ApiError).message).toMatch(/^pods "p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
    expect(admitPod(request(attackerSpec, labels('baseline', 'warn')))).toEqual([expect.stringMatching(/^would violate PodSecurity "baseline:latest": /)]);
    expect(admitPod(request(restrictedSpec, labels('restricted')))).toEqual([]);
    expect(checkPodTemplate(request(attackerSpec, labels('restricted')))).toEqual([expect.stringMatching(/^would violate PodSecurity "restricted:latest": /)]);
  });

  it('lets exempt users, namespaces and runtime classes through', () => {
    const exemptions = { usernames: ['alice'], namespaces: [], runtimeClasses: [] };
    expect(admitPod(request(attackerSpec, labels('restricted'), { defaults: {}, exemptions }))).toEqual([]);
    const byClass = { defaults: {}, exemptions: { usernames: [], namespaces: [], runtimeClasses: ['kata'] } };
    expect(admitPod(request({ ...attackerSpec, runtimeClassName: 'kata' }, labels('restricted'), byClass))).toEqual([]);
    expect(() => admitPod(request(attackerSpec, labels('restricted'), byClass))).toThrow(/violates PodSecurity/);
  });
});
