import { execFileSync } from 'node:child_process';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { describe, expect, it } from 'vitest';
import { renderRuleset } from './ruleset.ts';
import { cleanupProxy, nft, serviceRules } from './service-proxy.ts';

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
    expect(script).toContain('tcp . 30080 : goto ext-');
    expect(script).toContain('numgen random mod 2 vmap');
    expect(script).toMatch(/set no-endpoint-ips \{\n\s+type ipv4_addr \. inet_proto \. inet_service\n\s+elements = \{ 10\.96\.0\.21 \. udp \. 53 \}/);
    // nft -c checks the script without applying it
    execFileSync('nft', ['-c', '-f', '-'], { input: script });
  });

  it('pins clients with session affinity, keeps Local traffic on this node, and serves external IPs', () => {
    const sticky: Service = { ...svc, spec: { ...svc.spec, sessionAffinity: 'ClientIP', externalTrafficPolicy: 'Local', externalIPs: ['192.0.2.50'] } };
    const rules = serviceRules(sticky, [slice([
      { addresses: ['10.244.1.2'], nodeName: 'here', conditions: { ready: true } },
      { addresses: ['10.244.2.2'], nodeName: 'elsewhere', conditions: { ready: true } },
    ])], 'here');
    expect(rules[0]).toMatchObject({ affinitySeconds: 10800, externalLocal: true, externalIPs: ['192.0.2.50'], endpoints: [{ ip: '10.244.1.2', local: true }, { ip: '10.244.2.2' }] });
    const script = renderRuleset(rules, { table: 'skiff-unit', clusterCidr: '10.244.0.0/16' });
    expect(script).toMatch(/flags dynamic,timeout\n\s+timeout 10800s/);
    expect(script).toMatch(/update @ep-\w+ \{ ip saddr \}/);
    expect(script).toContain('192.0.2.50 . tcp . 80 : goto ext-');
    // the Local external chain picks among this node's endpoint only
    expect(script).toMatch(/chain ext-\w+ \{\n\s+comment "default\/web:http external \(Local\)"\n(\s+ip saddr @ep-\w+ goto ep-\w+\n)\s+numgen random mod 1 vmap/);
    execFileSync('nft', ['-c', '-f', '-'], { input: script });
  });

  it('cleans up its table, and does not mind when there is none', async () => {
    const table = `skiff-unit-${process.pid}`;
    await nft(renderRuleset([], { table, clusterCidr: '10.244.0.0/16' }));
    await cleanupProxy(table);
    expect(execFileSync('nft', ['list', 'tables']).toString()).not.toContain(table);
    await cleanupProxy(table);
  });
});

