import { expandReferences } from './expansion.ts';
import type { Container, Pod, Service } from 'kubernetes-types/core/v1.js';
import { milliCpu, parseQuantity, podContainers, resourceFieldValue } from '../../apimachinery/index.ts';
import type {
  ContainerConfig,
  DNSConfig,
  KeyValue,
  LinuxContainerResources,
  Mount,
  NamespaceOption,
  PodSandboxConfig,
  PortMapping,
  Protocol,
} from '../cri/index.ts';
import { CONTAINER_NAME, podLabels } from './runtime-labels.ts';
import { containerSecurityContext } from './security-context.ts';
import { podMetadataField, type ResolvedEnv } from '../volumes/index.ts';

export interface PodEnvironment {
  nodeName: string;
  hostIP: string;
  clusterDNS: string[];
  clusterDomain: string;
  /** the host's resolv.conf, parsed */
  hostDns: DNSConfig;
  podLogsDir: string;
  /** the cluster's Services, for the service-link variables */
  services?: () => Iterable<Service>;
  /** the node's allocatable resources (its Node's status), what a resourceFieldRef to an unset limit reads */
  allocatable?: () => Record<string, string> | undefined;
}

const envName = (s: string) => s.toUpperCase().replace(/-/g, '_');

/** One Service's docker-links variables: MY_SVC_SERVICE_HOST, MY_SVC_PORT_80_TCP_ADDR and the rest. */
function serviceEnv(svc: Service): { key: string; value: string }[] {
  const ip = svc.spec?.clusterIP as string;
  const p = envName(svc.metadata?.name ?? '');
  const ports = svc.spec?.ports ?? [];
  const first = ports[0];
  if (!first) return [];
  const url = (port: { port: number; protocol?: string }) => `${(port.protocol ?? 'TCP').toLowerCase()}://${ip}:${port.port}`;
  const out = [
    { key: `${p}_SERVICE_HOST`, value: ip },
    { key: `${p}_SERVICE_PORT`, value: String(first.port) },
  ];
  for (const port of ports) if (port.name) out.push({ key: `${p}_SERVICE_PORT_${envName(port.name)}`, value: String(port.port) });
  out.push({ key: `${p}_PORT`, value: url(first) });
  for (const port of ports) {
    const proto = port.protocol ?? 'TCP';
    const q = `${p}_PORT_${port.port}_${proto}`;
    out.push(
      { key: q, value: url(port) },
      { key: `${q}_PROTO`, value: proto.toLowerCase() },
      { key: `${q}_PORT`, value: String(port.port) },
      { key: `${q}_ADDR`, value: ip },
    );
  }
  return out;
}

/**
 * The service-link variables the kubelet gives a pod's containers: one set
 * per Service of the pod's namespace with a ClusterIP (unless
 * enableServiceLinks is false), and always the API's own `kubernetes` Service.
 */
export function serviceLinkEnv(services: Iterable<Service>, pod: Pod): { key: string; value: string }[] {
  const namespace = pod.metadata?.namespace;
  const links = pod.spec?.enableServiceLinks !== false;
  const chosen = new Map<string, Service>();
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    const name = svc.metadata?.name ?? '';
    if (!ip || ip === 'None') continue;
    if (svc.metadata?.namespace === namespace && links) chosen.set(name, svc);
    else if (svc.metadata?.namespace === 'default' && name === 'kubernetes' && !chosen.has(name)) chosen.set(name, svc);
  }
  return [...chosen.keys()].sort().flatMap((name) => serviceEnv(chosen.get(name) as Service));
}

/** /var/log/pods/{namespace}_{name}_{uid}, where the runtime writes container logs. */
export function podLogDirectory(pod: Pod, podLogsDir: string): string {
  const m = pod.metadata ?? {};
  return `${podLogsDir}/${m.namespace}_${m.name}_${m.uid}`;
}

/** Parses resolv.conf text into nameservers, search domains and options. */
export function parseResolvConf(text: string): DNSConfig {
  const servers: string[] = [];
  const searches: string[] = [];
  const options: string[] = [];
  for (const raw of text.split('\n')) {
    const [key, ...rest] = raw
      .replace(/[#;].*$/, '')
      .trim()
      .split(/\s+/);
    if (key === 'nameserver' && rest[0]) servers.push(rest[0]);
    else if (key === 'search') searches.splice(0, searches.length, ...rest);
    else if (key === 'options') options.push(...rest);
  }
  return { servers, searches, options };
}

/** The pod's DNS configuration per dnsPolicy and dnsConfig, as the kubelet builds it. */
export function podDnsConfig(pod: Pod, env: PodEnvironment): DNSConfig {
  let policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'ClusterFirst' && pod.spec?.hostNetwork) policy = 'Default';
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  let dns: DNSConfig;
  if (policy === 'ClusterFirst' && env.clusterDNS.length > 0) {
    const ns = pod.metadata?.namespace ?? 'default';
    const d = env.clusterDomain;
    dns = { servers: env.clusterDNS, searches: [`${ns}.svc.${d}`, `svc.${d}`, d, ...(env.hostDns.searches ?? [])], options: ['ndots:5'] };
  } else if (policy === 'None') {
    dns = { servers: [], searches: [], options: [] };
  } else {
    dns = { servers: env.hostDns.servers ?? [], searches: env.hostDns.searches ?? [], options: env.hostDns.options ?? [] };
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    dns = {
      servers: [...new Set([...(dns.servers ?? []), ...(extra.nameservers ?? [])])],
      searches: [...new Set([...(dns.searches ?? []), ...(extra.searches ?? [])])],
      options: [
        ...(dns.options ?? []).filter((o) => !(extra.options ?? []).some((e) => o.split(':')[0] === e.name)),
        ...(extra.options ?? []).map((o) => (o.value ? `${o.name}:${o.value}` : (o.name ?? ''))),
      ],
    };
  }
  return dns;
}

function namespaceOptions(pod: Pod): NamespaceOption {
  return {
    network: pod.spec?.hostNetwork ? 'NODE' : 'POD',
    pid: pod.spec?.hostPID ? 'NODE' : pod.spec?.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: pod.spec?.hostIPC ? 'NODE' : 'POD',
  };
}

function portMappings(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      out.push({ protocol: (p.protocol ?? 'TCP') as Protocol, containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIP ?? '' });
    }
  }
  return out;
}

/** Whether any of the pod's containers (init and ephemeral ones too) asks to be privileged, as the kubelet's HasPrivilegedContainer. */
function hasPrivilegedContainer(pod: Pod): boolean {
  return podContainers(pod.spec).some((c) => c.securityContext?.privileged === true);
}

export function sandboxConfig(pod: Pod, attempt: number, env: PodEnvironment): PodSandboxConfig {
  const m = pod.metadata ?? {};
  const meta = { name: m.name ?? '', namespace: m.namespace ?? '', uid: m.uid ?? '' };
  return {
    metadata: { ...meta, attempt },
    hostname: pod.spec?.hostNetwork ? '' : (pod.spec?.hostname ?? meta.name).slice(0, 63),
    logDirectory: podLogDirectory(pod, env.podLogsDir),
    dnsConfig: podDnsConfig(pod, env),
    portMappings: portMappings(pod),
    labels: { ...(m.labels ?? {}), ...podLabels(meta, env.nodeName) },
    annotations: { ...(m.annotations ?? {}) },
    linux: {
      // a privileged container needs a privileged sandbox, or the runtime refuses to create it
      securityContext: { namespaceOptions: namespaceOptions(pod), ...(hasPrivilegedContainer(pod) ? { privileged: true } : {}) },
      ...(pod.spec?.securityContext?.sysctls?.length ? { sysctls: Object.fromEntries(pod.spec.securityContext.sysctls.map((x) => [x.name, x.value])) } : {}),
    },
  };
}

/** requests/limits → CRI resources (cpu shares from requests, CFS quota and memory limit from limits). */
export function containerResources(c: Container): LinuxContainerResources {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  const out: LinuxContainerResources = {};
  const cpuReq = req.cpu !== undefined ? milliCpu(req.cpu) : lim.cpu !== undefined ? milliCpu(lim.cpu) : 0;
  out.cpuShares = Math.max(2, Math.floor((cpuReq * 1024) / 1000));
  if (lim.cpu !== undefined) {
    out.cpuPeriod = 100_000;
    out.cpuQuota = Math.max(1000, Math.floor((milliCpu(lim.cpu) * 100_000) / 1000));
  }
  if (lim.memory !== undefined) out.memoryLimitInBytes = Math.floor(parseQuantity(lim.memory));
  return out;
}

function fieldRefValue(pod: Pod, path: string, env: PodEnvironment, podIP: string): string {
  const metadata = podMetadataField(pod, path);
  if (metadata !== undefined) return metadata;
  switch (path) {
    case 'spec.nodeName':
      return env.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return env.hostIP;
    case 'status.podIP':
      return podIP;
    default:
      return '';
  }
}

/**
 * The container's environment as name/value pairs, in order (a later pair
 * wins): service links, envFrom entries, then env (values with their $(VAR)
 * references expanded, downward API fields, ConfigMap/Secret keys already read).
 */
function environmentOf(pod: Pod, c: Container, env: PodEnvironment, podIP: string, resolved?: ResolvedEnv): { key: string; value: string }[] {
  // the container's own variables come after, so they win
  const out: { key: string; value: string }[] = [...serviceLinkEnv(env.services?.() ?? [], pod), ...(resolved?.from ?? [])];
  const defined = new Map(out.map((kv) => [kv.key, kv.value]));
  const push = (key: string, value: string) => {
    out.push({ key, value });
    defined.set(key, value);
  };
  for (const e of c.env ?? []) {
    // a value may refer to the variables defined before it
    if (e.value !== undefined)
      push(
        e.name,
        expandReferences(e.value, (name) => defined.get(name)),
      );
    else if (e.valueFrom?.fieldRef) push(e.name, fieldRefValue(pod, e.valueFrom.fieldRef.fieldPath, env, podIP));
    else if (e.valueFrom?.resourceFieldRef) {
      const ref = e.valueFrom.resourceFieldRef;
      const divisor = ref.divisor === undefined ? undefined : String(ref.divisor);
      push(e.name, resourceFieldValue({ pod, containerName: ref.containerName || c.name, resource: ref.resource, divisor, allocatable: env.allocatable?.() }));
    } else if (e.valueFrom?.configMapKeyRef || e.valueFrom?.secretKeyRef) {
      const v = resolved?.values.get(e.name);
      if (v !== undefined) push(e.name, v);
    } else push(e.name, '');
  }
  return out;
}

/** An environment as CRI carries it: values as bytes (a string given for them would be read as base64). */
const asKeyValues = (environment: { key: string; value: string }[]): KeyValue[] => environment.map((kv) => ({ key: kv.key, value: Buffer.from(kv.value) }));

/** The command and args with their $(VAR) references to the container's environment expanded. */
function expandedCommand(c: Container, environment: { key: string; value: string }[]): { command: string[]; args: string[] } {
  const defined = new Map(environment.map((kv) => [kv.key, kv.value]));
  const expand = (s: string) => expandReferences(s, (name) => defined.get(name));
  return { command: (c.command ?? []).map(expand), args: (c.args ?? []).map(expand) };
}

export function containerConfig(args: {
  pod: Pod;
  container: Container;
  attempt: number;
  imageRef: string;
  env: PodEnvironment;
  podIP: string;
  mounts: Mount[];
  resolvedEnv?: ResolvedEnv;
  /** (an ephemeral container's target) the container whose process namespace this one joins */
  targetContainerId?: string;
}): ContainerConfig {
  const { pod, container: c, attempt, env } = args;
  const m = pod.metadata ?? {};
  // worked out once: the variables themselves, and what the command and args refer to
  const environment = environmentOf(pod, c, env, args.podIP, args.resolvedEnv);
  return {
    metadata: { name: c.name, attempt },
    image: { image: args.imageRef, userSpecifiedImage: c.image ?? '' },
    ...expandedCommand(c, environment),
    workingDir: c.workingDir ?? '',
    envs: asKeyValues(environment),
    mounts: args.mounts,
    labels: { ...podLabels({ name: m.name ?? '', namespace: m.namespace ?? '', uid: m.uid ?? '' }, env.nodeName), [CONTAINER_NAME]: c.name },
    annotations: { 'io.kubernetes.container.terminationMessagePath': c.terminationMessagePath ?? '/dev/termination-log' },
    logPath: `${c.name}/${attempt}.log`,
    stdin: c.stdin ?? false,
    stdinOnce: c.stdinOnce ?? false,
    tty: c.tty ?? false,
    linux: {
      resources: containerResources(c),
      securityContext: containerSecurityContext(
        pod,
        c,
        args.targetContainerId ? { ...namespaceOptions(pod), pid: 'TARGET', targetId: args.targetContainerId } : namespaceOptions(pod),
      ),
    },
  };
}
