import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, parseAgentConfig } from './config.ts';

const header = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';

describe('parseAgentConfig', () => {
  it('keeps the kubelet defaults for fields not given', () => {
    const { config, warnings } = parseAgentConfig(header);
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(config.port).toBe(10250);
    expect(config.evictionHard['memory.available']).toBe('100Mi');
    expect(warnings).toEqual([]);
  });

  it('honours known fields and converts durations', () => {
    const { config } = parseAgentConfig(
      `${header}port: 11250\npodCIDR: 10.244.3.0/24\nnodeStatusUpdateFrequency: 1m30s\nclusterDNS: [10.96.0.10]\nauthentication:\n  x509:\n    clientCAFile: /etc/ca.crt\n`,
    );
    expect(config.port).toBe(11250);
    expect(config.podCIDR).toBe('10.244.3.0/24');
    expect(config.nodeStatusUpdateFrequencyMs).toBe(90_000);
    expect(config.clusterDNS).toEqual(['10.96.0.10']);
    expect(config.clientCAFile).toBe('/etc/ca.crt');
  });

  it("reads the kubelet API's authorization mode and cache times (Webhook by default), refusing an unknown mode", () => {
    expect(parseAgentConfig(header).config).toMatchObject({ authorizationMode: 'Webhook', authorizedTtlMs: 300_000, unauthorizedTtlMs: 30_000 });
    const { config } = parseAgentConfig(`${header}authorization:\n  mode: AlwaysAllow\n  webhook:\n    cacheAuthorizedTTL: 1m\n    cacheUnauthorizedTTL: 5s\n`);
    expect(config).toMatchObject({ authorizationMode: 'AlwaysAllow', authorizedTtlMs: 60_000, unauthorizedTtlMs: 5000 });
    expect(() => parseAgentConfig(`${header}authorization:\n  mode: RBAC\n`)).toThrow('authorization.mode must be Webhook or AlwaysAllow, got "RBAC"');
  });

  it('reports unknown and unsupported fields instead of ignoring them silently', () => {
    const { warnings } = parseAgentConfig(`${header}staticPodURL: http://example.invalid/pods\nnoSuchField: 1\n`);
    expect(warnings.map((w) => w.field)).toEqual(['staticPodURL', 'noSuchField']);
    expect(warnings[1]?.message).toMatch(/unknown/);
  });

  it('rejects the wrong kind and ill-typed values', () => {
    expect(() => parseAgentConfig('apiVersion: v1\nkind: Pod\n')).toThrow(/KubeletConfiguration/);
    expect(() => parseAgentConfig(`${header}port: "ten"\n`)).toThrow(/port/);
    expect(() => parseAgentConfig(`${header}syncFrequency: soon\n`)).toThrow(/duration/);
  });

  it('reads the eviction and image GC settings and refuses bad ones at start', () => {
    const { config, warnings } = parseAgentConfig(
      `${header}evictionHard: {memory.available: 500Mi}\nevictionSoft: {nodefs.available: 15%}\nevictionSoftGracePeriod: {nodefs.available: 1m}\nevictionPressureTransitionPeriod: 30s\nevictionMaxPodGracePeriod: 20\nimageGCHighThresholdPercent: 70\nimageGCLowThresholdPercent: 60\nimageMinimumGCAge: 5m\n`,
    );
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      evictionHard: { 'memory.available': '500Mi' },
      evictionPressureTransitionPeriodMs: 30_000,
      evictionMaxPodGracePeriod: 20,
      imageGCHighThresholdPercent: 70,
      imageMinimumGCAgeMs: 300_000,
    });
    expect(() => parseAgentConfig(`${header}evictionSoft: {nodefs.available: 15%}\n`)).toThrow(
      'grace period must be specified for the soft eviction threshold nodefs.available',
    );
    expect(() => parseAgentConfig(`${header}evictionHard: {disk.free: 1Gi}\n`)).toThrow('unsupported eviction signal disk.free');
    expect(() => parseAgentConfig(`${header}imageGCHighThresholdPercent: 50\nimageGCLowThresholdPercent: 60\n`)).toThrow(
      'imageGCLowThresholdPercent (60) must be less than imageGCHighThresholdPercent (50)',
    );
  });
});
