import { execFileSync } from 'node:child_process';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { describe, expect, it } from 'vitest';
import { renderRuleset } from './ruleset.ts';
import { serviceRules } from './service-proxy.ts';

const svc: Service = { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.20', type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }] } };
const slice = (endpoints: NonNullable<EndpointSlice['endpoints']>): EndpointSlice => ({ addressType: 'IPv4', endpoints, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });

describe('service rules', () => {
  it('sends traffic to ready endpoints, or to serving terminating ones when none is ready', () => {
    const rules = serviceRules(svc, [slice([
      { addresses: ['10.244.1.2'], conditions: { ready: true } },
      { addresses: ['10.244.1.3'], conditions: { ready: false, serving: true, terminating: true } },
    ])]);
    expect(rules).toEqual([{ id: 'default/web:http', protocol: 'tcp', clusterIP: '10.96.0.20', port: 80, nodePort: 30080, endpoints: [{ ip: '10.244.1.2', port: 8080 }] }]);
    const draining = serviceRules(svc, [slice([{ addresses: ['10.244.1.3'], conditions: { ready: false, serving: true, terminating: true } }])]);
    expect(draining[0]?.endpoints).toEqual([{ ip: '10.244.1.3', port: 8080 }]);
    expect(serviceRules({ ...svc, spec: { ...svc.spec, clusterIP: 'None' } }, [])).toEqual([]);
  });

  it('renders a ruleset nft accepts, with verdict maps and a reject set', () => {
    const script = renderRuleset([
      ...serviceRules(svc, [slice([{ addresses: ['10.244.1.2'], conditions: { ready: true } }, { addresses: ['10.244.1.4'], conditions: { ready: true } }])]),
      { id: 'default/empty:', protocol: 'udp', clusterIP: '10.96.0.21', port: 53, endpoints: [] },
    ], { table: 'skiff-unit', clusterCidr: '10.244.0.0/16' });
    expect(script).toContain('10.96.0.20 . tcp . 80 : goto svc-');
    expect(script).toContain('tcp . 30080 : goto nodeport-');
    expect(script).toContain('numgen random mod 2 vmap');
    expect(script).toMatch(/set no-endpoint-ips \{\n\s+type ipv4_addr \. inet_proto \. inet_service\n\s+elements = \{ 10\.96\.0\.21 \. udp \. 53 \}/);
    // nft -c checks the script without applying it
    execFileSync('nft', ['-c', '-f', '-'], { input: script });
  });
});
