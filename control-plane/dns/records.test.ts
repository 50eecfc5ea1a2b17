import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { respond } from './dns-server.ts';
import { lookup, type DnsView } from './records.ts';

const services: Service[] = [
  { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } },
  { metadata: { name: 'db', namespace: 'data' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] } },
  { metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'example.test' } },
];
const slices: EndpointSlice[] = [
  {
    metadata: { namespace: 'data', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4',
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['10.244.1.5'], hostname: 'db-0', conditions: { ready: true } },
      { addresses: ['10.244.1.6'], conditions: { ready: true } },
      { addresses: ['10.244.1.7'], conditions: { ready: false } },
    ],
  },
];
const view: DnsView = {
  service: (ns, name) => services.find((s) => s.metadata?.namespace === ns && s.metadata?.name === name),
  slices: (ns, name) => slices.filter((s) => s.metadata?.namespace === ns && s.metadata?.labels?.['kubernetes.io/service-name'] === name),
  byIp: (ip) => (ip === '10.96.0.20' ? ['web.default.svc.cluster.local'] : []),
  namespaceExists: (ns) => ns === 'default' || ns === 'data',
};
const q = (name: string, type: Parameters<typeof lookup>[3] = 'A') => lookup(view, 'cluster.local', name, type);

describe('cluster DNS records', () => {
  it('answers A for Services, the ready endpoints of headless ones, and their hostnames', () => {
    expect(q('web.default.svc.cluster.local')).toEqual({
      rcode: 'NOERROR',
      answers: [{ type: 'A', name: 'web.default.svc.cluster.local', data: '10.96.0.20' }],
    });
    expect(q('db.data.svc.cluster.local.')).toMatchObject({ answers: [{ data: '10.244.1.5' }, { data: '10.244.1.6' }] });
    expect(q('db-0.db.data.svc.cluster.local')).toMatchObject({ answers: [{ data: '10.244.1.5' }] });
    expect(q('10-244-1-6.db.data.svc.cluster.local')).toMatchObject({ answers: [{ data: '10.244.1.6' }] });
    expect(q('ext.default.svc.cluster.local')).toMatchObject({ answers: [{ type: 'CNAME', data: 'example.test' }] });
    expect(q('10-244-3-4.default.pod.cluster.local')).toMatchObject({ answers: [{ data: '10.244.3.4' }] });
  });

  it('answers SRV for named ports and PTR for ClusterIPs', () => {
    expect(q('_http._tcp.web.default.svc.cluster.local', 'SRV')).toMatchObject({
      answers: [{ type: 'SRV', data: { port: 80, target: 'web.default.svc.cluster.local' } }],
    });
    expect(q('_pg._tcp.db.data.svc.cluster.local', 'SRV')).toMatchObject({
      answers: [{ data: { port: 5432, target: 'db-0.db.data.svc.cluster.local' } }, { data: { target: '10-244-1-6.db.data.svc.cluster.local' } }],
    });
    expect(q('20.0.96.10.in-addr.arpa', 'PTR')).toMatchObject({ answers: [{ type: 'PTR', data: 'web.default.svc.cluster.local' }] });
  });

  it('tells NXDOMAIN from NODATA, and refuses names outside the cluster', () => {
    expect(q('nope.default.svc.cluster.local')).toEqual({ rcode: 'NXDOMAIN' });
    expect(q('web.nowhere.svc.cluster.local')).toEqual({ rcode: 'NXDOMAIN' });
    expect(q('web.default.svc.cluster.local', 'AAAA')).toEqual({ rcode: 'NOERROR', answers: [] });
    expect(q('_nope._tcp.web.default.svc.cluster.local', 'SRV')).toEqual({ rcode: 'NXDOMAIN' });
    expect(q('example.com')).toEqual({ rcode: 'REFUSED' });
  });

  it('encodes answers as an authoritative DNS response', () => {
    const query = dnsPacket.encode({
      type: 'query',
      id: 7,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name: 'web.default.svc.cluster.local' }],
    });
    const reply = dnsPacket.decode(respond(view, 'cluster.local', dnsPacket.decode(query)));
    expect(reply).toMatchObject({ id: 7, type: 'response', rcode: 'NOERROR', flag_aa: true, answers: [{ type: 'A', data: '10.96.0.20', ttl: 5 }] });
    const missing = dnsPacket.decode(
      respond(
        view,
        'cluster.local',
        dnsPacket.decode(dnsPacket.encode({ type: 'query', id: 8, questions: [{ type: 'A', name: 'nope.default.svc.cluster.local' }] })),
      ),
    );
    expect(missing).toMatchObject({ id: 8, rcode: 'NXDOMAIN' });
  });
});
