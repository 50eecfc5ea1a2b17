export { ClusterDns, respond } from './dns-server.ts';
export { lookup } from './records.ts';
export type { DnsView, Lookup } from './records.ts';
export { publishDnsService } from './publish.ts';
