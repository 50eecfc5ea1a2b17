import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { IndexAllocator, fieldErrors, intToIpv4, ipv4ToInt, type StatusCause } from '../../../apimachinery/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import { age } from './age.ts';
import { NAME_COLUMN, AGE_COLUMN } from './columns.ts';

const asService = (o: Obj) => o as unknown as Service;
const TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];

/** In-memory allocator seeded from the stored Services at start. */
export class ServiceIpRange {
  readonly cidr: string;
  #base: number;
  #size: number;
  /** slot i is address base + 1 + i: the network and broadcast addresses are never handed out */
  #slots: IndexAllocator;

  constructor(cidr: string) {
    this.cidr = cidr;
    const [ip, bits] = cidr.split('/') as [string, string];
    this.#size = 2 ** (32 - Number(bits));
    this.#base = ipv4ToInt(ip);
    // the first addresses are left for the well-known Services (kubernetes, kube-dns) until the range wraps
    this.#slots = new IndexAllocator(this.#size - 2, { firstTry: 10 });
  }

  #slot(ip: string): number {
    return ipv4ToInt(ip) - this.#base - 1;
  }

  /** The first usable address: the `kubernetes` Service's ClusterIP. */
  get first(): string {
    return intToIpv4(this.#base + 1);
  }

  contains(ip: string): boolean {
    const n = ipv4ToInt(ip);
    return n > this.#base && n < this.#base + this.#size - 1;
  }

  markUsed(ip: string): void {
    if (this.contains(ip)) this.#slots.occupy(this.#slot(ip));
  }

  release(ip: string): void {
    if (this.contains(ip)) this.#slots.release(this.#slot(ip));
  }

  allocate(requested: string | undefined): string {
    if (requested) {
      if (!this.contains(requested)) throw new Error(`provided IP is not in the valid range. The range of valid IPs is ${this.cidr}`);
      if (this.#slots.has(this.#slot(requested))) throw new Error(`provided IP is already allocated`);
      this.#slots.occupy(this.#slot(requested));
      return requested;
    }
    const slot = this.#slots.allocate();
    if (slot === null) throw new Error(`range is full`);
    return intToIpv4(this.#base + 1 + slot);
  }
}

export const NODE_PORT_RANGE = { min: 30000, max: 32767 };

/** NodePorts in use (30000–32767), seeded from the stored Services at start, like ServiceIpRange. */
export class NodePortRange {
  #used = new Set<number>();

  markUsed(port: number): void {
    this.#used.add(port);
  }

  release(port: number): void {
    this.#used.delete(port);
  }

  /** Takes the requested port, or a random free one; throws with Kubernetes' words when it cannot. */
  allocate(requested: number | undefined): number {
    const { min, max } = NODE_PORT_RANGE;
    if (requested) {
      if (requested < min || requested > max) throw new Error(`provided port is not in the valid range. The range of valid ports is ${min}-${max}`);
      if (this.#used.has(requested)) throw new Error('provided port is already allocated');
      this.#used.add(requested);
      return requested;
    }
    const start = min + Math.floor(Math.random() * (max - min + 1));
    for (let i = 0; i <= max - min; i++) {
      const port = min + ((start - min + i) % (max - min + 1));
      if (!this.#used.has(port)) {
        this.#used.add(port);
        return port;
      }
    }
    throw new Error('range is full');
  }
}

const wantsNodePorts = (svc: Service) => svc.spec?.type === 'NodePort' || svc.spec?.type === 'LoadBalancer';
const nodePortsOf = (svc: Service) => (svc.spec?.ports ?? []).flatMap((p) => (p.nodePort ? [p.nodePort] : []));

/** Takes NodePorts for a NodePort or LoadBalancer Service's ports (the ones it names, or free ones), but the ones it holds already. */
function reserveNodePorts(svc: Service, ports: NodePortRange, causes: StatusCause[], held: ReadonlySet<number> = new Set()): number[] {
  const taken: number[] = [];
  if (!wantsNodePorts(svc)) return taken;
  (svc.spec?.ports ?? []).forEach((p, i) => {
    if (p.nodePort && held.has(p.nodePort)) return;
    try {
      p.nodePort = ports.allocate(p.nodePort || undefined);
      taken.push(p.nodePort);
    } catch (err) {
      causes.push(fieldErrors.invalid(`spec.ports[${i}].nodePort`, p.nodePort, (err as Error).message));
    }
  });
  return taken;
}

/** Takes a cluster IP (the one asked for, or a free one) and writes it into the spec; undefined with a cause when it cannot. */
function reserveClusterIp(obj: Obj, ips: ServiceIpRange, causes: StatusCause[]): string | undefined {
  const asked = asService(obj).spec?.clusterIP;
  try {
    const ip = ips.allocate(asked || undefined);
    (obj.spec as Record<string, unknown>).clusterIP = ip;
    (obj.spec as Record<string, unknown>).clusterIPs = [ip];
    return ip;
  } catch (err) {
    causes.push(fieldErrors.invalid('spec.clusterIPs', asked ? [asked] : [], (err as Error).message));
    return undefined;
  }
}

function portName(p: ServicePort): string {
  return `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`;
}

export function serviceStrategy(ips: ServiceIpRange, nodePorts: NodePortRange): Strategy {
  return {
    defaults(obj) {
      const svc = asService(obj);
      const spec = (obj.spec ??= {}) as Record<string, unknown>;
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      spec.internalTrafficPolicy ??= 'Cluster';
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      for (const p of svc.spec?.ports ?? []) {
        const port = p as { protocol?: string; targetPort?: number | string; port: number };
        port.protocol ??= 'TCP';
        port.targetPort ??= port.port;
      }
    },
    prepareForCreate(obj) {
      obj.status = {};
    },
    requiredStatus: { loadBalancer: {} },
    validate(obj) {
      const svc = asService(obj);
      const causes: StatusCause[] = [];
      const type = svc.spec?.type ?? 'ClusterIP';
      if (!TYPES.includes(type)) causes.push(fieldErrors.notSupported('spec.type', type, TYPES));
      if (type !== 'ExternalName' && (svc.spec?.ports ?? []).length === 0 && svc.spec?.clusterIP !== 'None') causes.push(fieldErrors.required('spec.ports'));
      (svc.spec?.ports ?? []).forEach((p, i) => {
        if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535)
          causes.push(fieldErrors.invalid(`spec.ports[${i}].port`, p.port, 'must be between 1 and 65535, inclusive'));
      });
      return causes;
    },
    reserve(obj) {
      const svc = asService(obj);
      const causes: StatusCause[] = [];
      const ip = (svc.spec?.type ?? 'ClusterIP') !== 'ExternalName' && svc.spec?.clusterIP !== 'None' ? reserveClusterIp(obj, ips, causes) : undefined;
      const ports = reserveNodePorts(svc, nodePorts, causes);
      const release = () => {
        if (ip) ips.release(ip);
        ports.forEach((p) => nodePorts.release(p));
      };
      if (causes.length) release();
      return { causes, release };
    },
    afterDelete(obj) {
      const svc = asService(obj);
      if (svc.spec?.clusterIP && svc.spec.clusterIP !== 'None') ips.release(svc.spec.clusterIP);
      if (wantsNodePorts(svc)) for (const p of svc.spec?.ports ?? []) if (p.nodePort) nodePorts.release(p.nodePort);
    },
    prepareForUpdate(obj, old) {
      const spec = (obj.spec ??= {}) as Record<string, unknown>;
      // an ExternalName Service has no cluster IP; one that leaves ExternalName gets a new one in reserveUpdate
      if (spec.type !== 'ExternalName' && old.spec?.type !== 'ExternalName') {
        spec.clusterIP ??= old.spec?.clusterIP;
        spec.clusterIPs ??= old.spec?.clusterIPs;
      }
      if (spec.type === 'ExternalName') {
        delete spec.clusterIP;
        delete spec.clusterIPs;
      }
      // a Service that stops being NodePort or LoadBalancer gives its node ports up, as Kubernetes drops them
      if (!wantsNodePorts(asService(obj)) && wantsNodePorts(asService(old))) for (const p of asService(obj).spec?.ports ?? []) delete p.nodePort;
    },
    validateUpdate(obj, old) {
      const crossing = obj.spec?.type === 'ExternalName' || old.spec?.type === 'ExternalName';
      if (!crossing && obj.spec?.clusterIP !== old.spec?.clusterIP)
        return [fieldErrors.invalid('spec.clusterIPs[0]', obj.spec?.clusterIP, 'may not change once set')];
      return [];
    },
    reserveUpdate(obj, old) {
      const next = asService(obj);
      const before = asService(old);
      const causes: StatusCause[] = [];
      const oldIp = before.spec?.clusterIP && before.spec.clusterIP !== 'None' ? before.spec.clusterIP : undefined;
      const needsIp = (next.spec?.type ?? 'ClusterIP') !== 'ExternalName' && next.spec?.clusterIP !== 'None';
      const tookIp = needsIp && !oldIp ? reserveClusterIp(obj, ips, causes) : undefined;
      const held = new Set(wantsNodePorts(before) ? nodePortsOf(before) : []);
      const tookPorts = reserveNodePorts(next, nodePorts, causes, held);
      const kept = new Set(nodePortsOf(next));
      const release = () => {
        if (tookIp) ips.release(tookIp);
        for (const p of tookPorts) nodePorts.release(p);
      };
      if (causes.length) release();
      return {
        causes,
        release,
        commit: () => {
          if (oldIp && !needsIp) ips.release(oldIp);
          for (const p of held) if (!kept.has(p)) nodePorts.release(p);
        },
      };
    },
    columns: [
      NAME_COLUMN,
      { name: 'Type', type: 'string', description: 'type determines how the Service is exposed.', priority: 0 },
      { name: 'Cluster-IP', type: 'string', description: 'clusterIP is the IP address of the service.', priority: 0 },
      {
        name: 'External-IP',
        type: 'string',
        description: 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.',
        priority: 0,
      },
      { name: 'Port(s)', type: 'string', description: 'The list of ports that are exposed by this service.', priority: 0 },
      AGE_COLUMN,
      { name: 'Selector', type: 'string', description: 'Route service traffic to pods with label keys and values matching this selector.', priority: 1 },
    ],
    cells(obj) {
      const svc = asService(obj);
      const ports = (svc.spec?.ports ?? []).map(portName).join(',');
      const sel = Object.entries(svc.spec?.selector ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      // as kubectl's printer: a LoadBalancer shows its ingress addresses (or <pending>), with any external IPs
      const lb = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname).filter(Boolean);
      const ext = [...(svc.spec?.type === 'LoadBalancer' ? lb : []), ...(svc.spec?.externalIPs ?? [])].join(',');
      return [
        obj.metadata.name,
        svc.spec?.type ?? 'ClusterIP',
        svc.spec?.clusterIP ?? '<none>',
        ext || (svc.spec?.type === 'LoadBalancer' ? '<pending>' : '<none>'),
        ports || '<none>',
        age(obj.metadata.creationTimestamp),
        sel || '<none>',
      ];
    },
  };
}
