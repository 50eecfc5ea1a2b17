import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import type { Namespace, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import dnsPacket from 'dns-packet';
import { SERVICE_NAME_LABEL, Informer, type Logger, type RestClient } from '../../apimachinery/index.ts';
import { lookup, type DnsView, type RecordType } from './records.ts';

/** CoreDNS's kubernetes plugin answers with a 5 s TTL; so do we. */
const TTL = 5;

/** The cluster DNS's view, from informers on Services, EndpointSlices and Namespaces. */
class InformerView implements DnsView {
  readonly services: Informer<Service>;
  readonly slicesInformer: Informer<EndpointSlice>;
  readonly namespaces: Informer<Namespace>;
  #zone: string;

  constructor(client: RestClient, zone: string, log: Logger) {
    this.#zone = zone;
    this.services = new Informer<Service>(client, { resource: 'services' }, { log });
    this.slicesInformer = new Informer<EndpointSlice>(client, { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' }, { log });
    this.namespaces = new Informer<Namespace>(client, { resource: 'namespaces' }, { log });
  }

  service(namespace: string, name: string): Service | undefined {
    return this.services.get(`${namespace}/${name}`);
  }

  slices(namespace: string, name: string): EndpointSlice[] {
    return this.slicesInformer.list().filter((s) => s.metadata?.namespace === namespace && s.metadata?.labels?.[SERVICE_NAME_LABEL] === name);
  }

  byIp(ip: string): string[] {
    const names: string[] = [];
    for (const svc of this.services.list()) {
      if (svc.spec?.clusterIP === ip) names.push(`${svc.metadata?.name}.${svc.metadata?.namespace}.svc.${this.#zone}`);
    }
    for (const slice of this.slicesInformer.list()) {
      const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
      for (const e of slice.endpoints ?? []) {
        if (svc && e.hostname && e.addresses.includes(ip)) names.push(`${e.hostname}.${svc}.${slice.metadata?.namespace}.svc.${this.#zone}`);
      }
    }
    return names;
  }

  namespaceExists(namespace: string): boolean {
    return this.namespaces.get(namespace) !== undefined;
  }
}

/** Builds the response to one query message. */
export function respond(view: DnsView, zone: string, query: dnsPacket.Packet): Buffer {
  const question = query.questions?.[0];
  const base = {
    type: 'response' as const,
    id: query.id,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED),
    questions: query.questions,
  };
  if (!question) return dnsPacket.encode({ ...base, flags: base.flags | 1 /* FORMERR */ });
  const result = lookup(view, zone, question.name, question.type as RecordType);
  const rcodes = { NOERROR: 0, NXDOMAIN: 3, REFUSED: 5 } as const;
  const answers = result.rcode === 'NOERROR' ? result.answers.map((a) => ({ type: a.type, name: a.name, ttl: TTL, class: 'IN' as const, data: a.data })) : [];
  return dnsPacket.encode({ ...base, flags: base.flags | rcodes[result.rcode], answers: answers as dnsPacket.Answer[] });
}

/**
 * The cluster DNS add-on, run by `skiff server`: answers over UDP and TCP on
 * one port from what the API server knows. The kube-dns Service (ClusterIP
 * 10.96.0.10 by default) points at it through a selectorless EndpointSlice.
 */
export class ClusterDns {
  #view: InformerView;
  #zone: string;
  #log: Logger;
  #udp: Socket | undefined;
  #tcp: Server | undefined;

  constructor(client: RestClient, opts: { zone: string }, log: Logger) {
    this.#zone = opts.zone;
    this.#log = log.child({ component: 'dns' });
    this.#view = new InformerView(client, opts.zone, this.#log);
  }

  /** Starts the informers and listens; resolves once both sockets are bound. */
  async start(bindAddress: string, port: number, signal: AbortSignal): Promise<void> {
    for (const i of [this.#view.services, this.#view.slicesInformer, this.#view.namespaces] as Informer<object>[]) void i.run(signal);
    await Promise.all([this.#view.services.hasSynced(), this.#view.slicesInformer.hasSynced(), this.#view.namespaces.hasSynced()]);
    const udp = createSocket('udp4');
    udp.on('message', (msg, rinfo) => {
      const reply = this.#answer(msg);
      if (reply) udp.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, bindAddress, () => resolve());
    });
    this.#udp = udp;
    // over TCP each message is preceded by its two-byte length
    const tcp = createServer((conn) => {
      let buf = Buffer.alloc(0);
      conn.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const len = buf.readUInt16BE(0);
          const reply = this.#answer(buf.subarray(2, 2 + len));
          buf = buf.subarray(2 + len);
          if (reply) conn.write(Buffer.concat([Buffer.from([reply.length >> 8, reply.length & 255]), reply]));
        }
      });
      conn.on('error', () => conn.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, bindAddress, () => resolve());
    });
    this.#tcp = tcp;
    signal.addEventListener('abort', () => this.close(), { once: true });
    this.#log.info({ address: bindAddress, port }, 'cluster DNS listening');
  }

  #answer(msg: Buffer): Buffer | undefined {
    try {
      return respond(this.#view, this.#zone, dnsPacket.decode(msg));
    } catch (err) {
      this.#log.debug({ err: (err as Error).message }, 'bad DNS message');
      return undefined;
    }
  }

  close(): void {
    this.#udp?.close();
    this.#tcp?.close();
  }
}
