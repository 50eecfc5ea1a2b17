import { networkInterfaces } from 'node:os';

/** This host's address for the cluster: `preferred` if given, else its first non-loopback IPv4 address. */
export function hostIPv4(preferred?: string): string {
  if (preferred) return preferred;
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
