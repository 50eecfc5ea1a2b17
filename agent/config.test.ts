import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, parseAgentConfig, parseDuration } from './config.ts';

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
    const { config } = parseAgentConfig(`${header}port: 11250\npodCIDR: 10.244.3.0/24\nnodeStatusUpdateFrequency: 1m30s\nclusterDNS: [10.96.0.10]\nauthentication:\n  x509:\n    clientCAFile: /etc/ca.crt\n`);
    expect(config.port).toBe(11250);
    expect(config.podCIDR).toBe('10.244.3.0/24');
    expect(config.nodeStatusUpdateFrequencyMs).toBe(90_000);
    expect(config.clusterDNS).toEqual(['10.96.0.10']);
    expect(config.clientCAFile).toBe('/etc/ca.crt');
  });

  it('reports unknown and unsupported fields instead of ignoring them silently', () => {
    const { warnings } = parseAgentConfig(`${header}staticPodPath: /etc/kubernetes/manifests\nnoSuchField: 1\n`);
    expect(warnings.map((w) => w.field)).toEqual(['staticPodPath', 'noSuchField']);
    expect(warnings[1]?.message).toMatch(/unknown/);
  });

  it('rejects the wrong kind and ill-typed values', () => {
    expect(() => parseAgentConfig('apiVersion: v1\nkind: Pod\n')).toThrow(/KubeletConfiguration/);
    expect(() => parseAgentConfig(`${header}port: "ten"\n`)).toThrow(/port/);
    expect(() => parseAgentConfig(`${header}syncFrequency: soon\n`)).toThrow(/duration/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['10s', 10_000],
    ['500ms', 500],
    ['2h', 7_200_000],
    ['1m30s', 90_000],
  ])('%s is %d ms', (s, ms) => expect(parseDuration(s)).toBe(ms));
});
