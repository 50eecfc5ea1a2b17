import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

export type RecordType = 'A' | 'AAAA' | 'SRV' | 'PTR' | 'CNAME' | 'TXT' | 'ANY';

export interface Answer {
  type: 'A' | 'SRV' | 'PTR' | 'CNAME';
  name: string;
  data: string | { priority: number; weight: number; port: number; target: string };
}

/** What the cluster's DNS knows: Services and their endpoints. */
export interface DnsView {
  service(namespace: string, name: string): Service | undefined;
  slices(namespace: string, name: string): EndpointSlice[];
  /** any Service or endpoint with this ClusterIP / address, for PTR */
  byIp(ip: string): string[];
  namespaceExists(namespace: string): boolean;
}

export type Lookup = { rcode: 'NOERROR'; answers: Answer[] } | { rcode: 'NXDOMAIN' } | { rcode: 'REFUSED' };

const NODATA: Lookup = { rcode: 'NOERROR', answers: [] };
const NXDOMAIN: Lookup = { rcode: 'NXDOMAIN' };

/** The ready endpoint addresses (and hostnames) of a Service, across its slices. */
function endpoints(view: DnsView, ns: string, svc: string): { ip: string; hostname?: string; ports: { name?: string; port?: number; protocol?: string }[] }[] {
  const out: { ip: string; hostname?: string; ports: { name?: string; port?: number; protocol?: string }[] }[] = [];
  const publishAll = view.service(ns, svc)?.spec?.publishNotReadyAddresses === true;
  for (const slice of view.slices(ns, svc)) {
    for (const e of slice.endpoints ?? []) {
      if (!publishAll && e.conditions?.ready === false) continue;
      for (const ip of e.addresses) out.push({ ip, hostname: e.hostname, ports: slice.ports ?? [] });
    }
  }
  return out;
}

const dashed = (ip: string) => ip.replaceAll('.', '-');

/**
 * Answers a question per the Kubernetes DNS specification, for names under
 * the cluster domain: `<svc>.<ns>.svc` (A: the ClusterIP, or each ready
 * endpoint of a headless Service; CNAME for ExternalName), endpoint names
 * `<hostname>.<svc>.<ns>.svc`, SRV `_<port>._<proto>.<svc>.<ns>.svc`, pod
 * names `<a-b-c-d>.<ns>.pod`, and PTR for ClusterIPs and endpoints. A name
 * that does not exist is NXDOMAIN, one that exists without records of the
 * type is NODATA, and names outside the cluster domain are REFUSED (the
 * server forwards nowhere).
 */
export function lookup(view: DnsView, zone: string, qname: string, qtype: RecordType): Lookup {
  const name = qname.toLowerCase().replace(/\.$/, '');
  if (name.endsWith('.in-addr.arpa')) return reverse(view, name, qtype);
  if (name !== zone && !name.endsWith(`.${zone}`)) return { rcode: 'REFUSED' };
  const labels = name === zone ? [] : name.slice(0, -zone.length - 1).split('.');
  const want = (t: Answer['type']) => qtype === t || qtype === 'ANY';

  // <a-b-c-d>.<ns>.pod
  if (labels.length === 3 && labels[2] === 'pod') {
    const ip = labels[0]?.replaceAll('-', '.') ?? '';
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip) || !view.namespaceExists(labels[1] as string)) return NXDOMAIN;
    return want('A') ? { rcode: 'NOERROR', answers: [{ type: 'A', name, data: ip }] } : NODATA;
  }
  const svcIndex = labels.lastIndexOf('svc');
  if (svcIndex < 0 || svcIndex !== labels.length - 1)
    return labels.length === 0 || (labels.length === 1 && (labels[0] === 'svc' || labels[0] === 'pod')) ? NODATA : NXDOMAIN;
  const [ns, svcName, ...rest] = labels.slice(0, -1).reverse();
  if (!ns) return NODATA;
  if (!svcName) return view.namespaceExists(ns) ? NODATA : NXDOMAIN;
  const svc = view.service(ns, svcName);
  if (!svc) return NXDOMAIN;
  const svcFqdn = `${svcName}.${ns}.svc.${zone}`;
  const headless = svc.spec?.clusterIP === 'None';
  const eps = headless ? endpoints(view, ns, svcName) : [];

  if (rest.length === 0) {
    if (svc.spec?.type === 'ExternalName') return { rcode: 'NOERROR', answers: [{ type: 'CNAME', name, data: svc.spec.externalName ?? '' }] };
    if (!want('A')) return NODATA;
    if (headless) return { rcode: 'NOERROR', answers: eps.map((e) => ({ type: 'A', name, data: e.ip })) };
    return { rcode: 'NOERROR', answers: svc.spec?.clusterIP ? [{ type: 'A', name, data: svc.spec.clusterIP }] : [] };
  }
  // _<port>._<proto>.<svc>.<ns>.svc
  if (rest.length === 2 && rest[1]?.startsWith('_') && rest[0]?.startsWith('_')) {
    const protocol = rest[0].slice(1).toUpperCase();
    const portName = rest[1].slice(1);
    const port = (svc.spec?.ports ?? []).find((p) => p.name === portName && (p.protocol ?? 'TCP') === protocol);
    if (!port) return NXDOMAIN;
    if (!want('SRV')) return NODATA;
    if (!headless) return { rcode: 'NOERROR', answers: [{ type: 'SRV', name, data: { priority: 0, weight: 100, port: port.port, target: svcFqdn } }] };
    const answers: Answer[] = [];
    for (const e of eps) {
      const epPort = e.ports.find((p) => p.name === portName && (p.protocol ?? 'TCP') === protocol)?.port;
      if (epPort) answers.push({ type: 'SRV', name, data: { priority: 0, weight: 100, port: epPort, target: `${e.hostname ?? dashed(e.ip)}.${svcFqdn}` } });
    }
    return { rcode: 'NOERROR', answers };
  }
  // <hostname>.<svc>.<ns>.svc (headless endpoints)
  if (rest.length === 1 && headless) {
    const matching = eps.filter((e) => (e.hostname ?? dashed(e.ip)) === rest[0]);
    if (!matching.length) return NXDOMAIN;
    return want('A') ? { rcode: 'NOERROR', answers: matching.map((e) => ({ type: 'A', name, data: e.ip })) } : NODATA;
  }
  return NXDOMAIN;
}

function reverse(view: DnsView, name: string, qtype: RecordType): Lookup {
  const octets = name.slice(0, -'.in-addr.arpa'.length).split('.');
  if (octets.length !== 4) return { rcode: 'REFUSED' };
  const ip = octets.reverse().join('.');
  const names = view.byIp(ip);
  if (!names.length) return NXDOMAIN;
  if (qtype !== 'PTR' && qtype !== 'ANY') return NODATA;
  return { rcode: 'NOERROR', answers: names.map((target) => ({ type: 'PTR', name, data: target })) };
}
