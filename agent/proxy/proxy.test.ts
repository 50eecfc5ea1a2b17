import { execFileSync } from 'node:child_process';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { describe, expect, it } from 'vitest';
import { STATIC_PICKERS, needsFullRewrite, serviceFragment, type ServicePortRule } from './proxy-model.ts';
import { ProxyState } from './proxy-state.ts';
import { renderDelta, renderRuleset } from './ruleset.ts';
import { cleanupProxy, nft, serviceRules } from './service-proxy.ts';

const svc: Service = {
  metadata: { name: 'web', namespace: 'default' },
  spec: { clusterIP: '10.96.0.20', type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }] },
};
const UNIT = { table: 'skiff-unit', clusterCidr: '10.244.0.0/16' };
/** A state holding each rule as a Service of its own. */
function stateOf(rules: ServicePortRule[], opts = UNIT, state = new ProxyState()): ProxyState {
  for (const r of rules) state.replace(r.id, serviceFragment(r, opts));
  return state;
}
const render = (rules: ServicePortRule[]) => renderRuleset(stateOf(rules).contents(), UNIT);
const slice = (endpoints: NonNullable<EndpointSlice['endpoints']>): EndpointSlice => ({
  addressType: 'IPv4',
  endpoints,
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});

describe('service rules', () => {
  it('sends traffic to ready endpoints, or to serving terminating ones when none is ready', () => {
    const rules = serviceRules(svc, [
      slice([
        { addresses: ['10.244.1.2'], conditions: { ready: true } },
        { addresses: ['10.244.1.3'], conditions: { ready: false, serving: true, terminating: true } },
      ]),
    ]);
    expect(rules).toEqual([
      { id: 'default/web:http', protocol: 'tcp', clusterIP: '10.96.0.20', port: 80, nodePort: 30080, endpoints: [{ ip: '10.244.1.2', port: 8080 }] },
    ]);
    const draining = serviceRules(svc, [slice([{ addresses: ['10.244.1.3'], conditions: { ready: false, serving: true, terminating: true } }])]);
    expect(draining[0]?.endpoints).toEqual([{ ip: '10.244.1.3', port: 8080 }]);
    expect(serviceRules({ ...svc, spec: { ...svc.spec, clusterIP: 'None' } }, [])).toEqual([]);
  });

  it('renders a ruleset nft accepts, with verdict maps and a reject set', () => {
    const script = render([
      ...serviceRules(
        svc,
        [
          slice([
            { addresses: ['10.244.1.2'], nodeName: 'here', conditions: { ready: true } },
            { addresses: ['10.244.1.4'], nodeName: 'elsewhere', conditions: { ready: true } },
          ]),
        ],
        'here',
      ),
      { id: 'default/empty:', protocol: 'udp', clusterIP: '10.96.0.21', port: 53, endpoints: [] },
    ]);
    // one picker chain for every TCP Service of two endpoints, the endpoint one map lookup away
    expect(script).toContain('10.96.0.20 . tcp . 80 : goto pick-cluster-2');
    expect(script).toContain('tcp . 30080 : goto pick-node-port-2');
    expect(script).toMatch(
      /chain pick-cluster-2 \{\n\s+ip saddr != 10\.244\.0\.0\/16 meta mark set meta mark \| 0x4000\n\s+dnat ip to ip daddr \. meta l4proto \. th dport \. numgen random mod 2 map @endpoints/,
    );
    expect(script).toContain('10.96.0.20 . tcp . 80 . 0 : 10.244.1.2 . 8080, 10.96.0.20 . tcp . 80 . 1 : 10.244.1.4 . 8080');
    expect(script).toContain('tcp . 30080 . 1 : 10.244.1.4 . 8080');
    // only this node's endpoints can reach themselves through the Service
    expect(script).toMatch(/set hairpin \{\n\s+type ipv4_addr \. ipv4_addr\n\s+elements = \{ 10\.244\.1\.2 \. 10\.244\.1\.2 \}/);
    expect(script).toMatch(/set no-endpoint-ips \{\n\s+type ipv4_addr \. inet_proto \. inet_service\n\s+elements = \{ 10\.96\.0\.21 \. udp \. 53 \}/);
    // nft -c checks the script without applying it
    execFileSync('nft', ['-c', '-f', '-'], { input: script });
  });

  it('pins clients with session affinity, keeps Local traffic on this node, and serves external IPs', () => {
    const sticky: Service = { ...svc, spec: { ...svc.spec, sessionAffinity: 'ClientIP', externalTrafficPolicy: 'Local', externalIPs: ['192.0.2.50'] } };
    const rules = serviceRules(
      sticky,
      [
        slice([
          { addresses: ['10.244.1.2'], nodeName: 'here', conditions: { ready: true } },
          { addresses: ['10.244.2.2'], nodeName: 'elsewhere', conditions: { ready: true } },
        ]),
      ],
      'here',
    );
    expect(rules[0]).toMatchObject({
      affinitySeconds: 10800,
      externalLocal: true,
      externalIPs: ['192.0.2.50'],
      endpoints: [{ ip: '10.244.1.2', local: true }, { ip: '10.244.2.2' }],
    });
    const script = render(rules);
    expect(script).toMatch(/flags dynamic,timeout\n\s+timeout 10800s/);
    expect(script).toMatch(/update @ep-\w+ \{ ip saddr \}/);
    expect(script).toContain('192.0.2.50 . tcp . 80 : goto ext-');
    // the Local external chain picks among this node's endpoint only
    expect(script).toMatch(
      /chain ext-\w+ \{\n\s+comment "default\/web:http external \(Local\)"\n(\s+ip saddr @ep-\w+ goto ep-\w+\n)\s+numgen random mod 1 vmap/,
    );
    execFileSync('nft', ['-c', '-f', '-'], { input: script });
  });

  it('cleans up its table, and does not mind when there is none', async () => {
    const table = `skiff-unit-${process.pid}`;
    await nft(renderRuleset(new ProxyState().contents(), { table, clusterCidr: '10.244.0.0/16' }));
    await cleanupProxy(table);
    expect(execFileSync('nft', ['list', 'tables']).toString()).not.toContain(table);
    await cleanupProxy(table);
  });

  it('carries only what changed, in one transaction that nft accepts on the table it changes', async () => {
    const table = `skiff-unit-inc-${process.pid}`;
    const opts = { table, clusterCidr: '10.244.0.0/16' };
    const rule = (id: string, ip: string, endpoints: string[], extra: Partial<ServicePortRule> = {}): ServicePortRule => ({
      id,
      protocol: 'tcp',
      clusterIP: ip,
      port: 80,
      endpoints: endpoints.map((e) => ({ ip: e, port: 8080, local: true })),
      ...extra,
    });
    const state = stateOf(
      [
        rule('ns/a:', '10.96.1.1', ['10.244.9.1', '10.244.9.2']),
        rule('ns/b:', '10.96.1.2', ['10.244.9.3'], { affinitySeconds: 60 }),
        rule('ns/c:', '10.96.1.3', []),
        rule('ns/e:', '10.96.1.5', ['10.244.9.2']),
      ],
      opts,
    );
    state.takeDelta();
    try {
      await nft(renderRuleset(state.contents(), opts));
      // a loses an endpoint, b's affinity changes, c gets one, d is new, e goes
      stateOf(
        [
          rule('ns/a:', '10.96.1.1', ['10.244.9.1']),
          rule('ns/b:', '10.96.1.2', ['10.244.9.3'], { affinitySeconds: 90 }),
          rule('ns/c:', '10.96.1.3', ['10.244.9.4']),
          rule('ns/d:', '10.96.1.4', ['10.244.9.5']),
        ],
        opts,
        state,
      );
      state.replace('ns/e:', undefined);
      const delta = state.takeDelta();
      // 10.244.9.2 left both a and e, so its hairpin pair goes; a now picks among one endpoint
      expect(delta.elements.hairpin.removed).toEqual(['10.244.9.2 . 10.244.9.2']);
      expect(delta.elements['cluster-ips'].added.get('10.96.1.1 . tcp . 80')).toBe('goto pick-cluster-1');
      // only static pickers in use: no full rewrite needed
      expect([...delta.chains.added.keys()].filter(needsFullRewrite)).toEqual([]);
      const update = renderDelta(delta, table);
      expect(update).not.toContain('delete table');
      await nft(update);
      // the table is now what a full rewrite would make of it
      const listed = execFileSync('nft', ['list', 'table', 'ip', table]).toString();
      await nft(renderRuleset(state.contents(), opts));
      expect(execFileSync('nft', ['list', 'table', 'ip', table]).toString().split('\n').sort()).toEqual(listed.split('\n').sort());
      expect(renderDelta(state.takeDelta(), table)).toBe('');
    } finally {
      await cleanupProxy(table);
    }
  });

  it('keeps the common ClusterIP pickers in every table, and brings others with the Service that needs them', () => {
    const many: ServicePortRule = {
      id: 'ns/many:',
      protocol: 'tcp',
      clusterIP: '10.96.1.9',
      port: 80,
      nodePort: 30123,
      endpoints: Array.from({ length: STATIC_PICKERS + 4 }, (_, i) => ({ ip: `10.244.8.${i + 1}`, port: 80 })),
    };
    const f = serviceFragment(many, UNIT);
    expect([...f.chains.keys()].sort()).toEqual([`pick-cluster-${STATIC_PICKERS + 4}`, `pick-node-port-${STATIC_PICKERS + 4}`]);
    expect([...f.chains.keys()].every(needsFullRewrite)).toBe(true);
    // three endpoints, ClusterIP only: the static picker, nothing of its own
    expect(serviceFragment({ ...many, nodePort: undefined, endpoints: many.endpoints.slice(0, 3) }, UNIT).chains.size).toBe(0);
    execFileSync('nft', ['-c', '-f', '-'], { input: render([many]) });
  });
});
