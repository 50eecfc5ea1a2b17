import { BlockList, isIP } from 'node:net';
import { Environment } from '@marcbachmann/cel-js';
import { isQuantity, parseQuantity } from '../../../apimachinery/index.ts';

// The CEL environment of x-kubernetes-validations: CEL's standard functions
// and string extensions (from cel-js), plus the Kubernetes list, regex and
// quantity libraries, which rules in the wild lean on (`self.isSorted()`,
// `self.map(...).sum()`, `self.find('[0-9]+')`,
// `quantity(self.limit).isGreaterThan(quantity(self.request))`).

/** A resource quantity as rules see it, by its value (cores, bytes). */
class Quantity {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

const quantityOf = (text: string) => new Quantity(parseQuantity(text));

/** An IP address as rules see it (IPv6 zones refused, as upstream). */
class IP {
  readonly text: string;
  readonly family: 4 | 6;
  constructor(text: string) {
    const family = isIP(text);
    if (family === 0) throw new Error(`IP Address ${JSON.stringify(text)} parse error during conversion from string`);
    this.text = text;
    this.family = family as 4 | 6;
  }
}

/** A CIDR (address and prefix length) as rules see it. */
class CIDR {
  readonly ip: IP;
  readonly prefixLength: number;
  readonly #block = new BlockList();
  constructor(text: string) {
    const [address = '', bits = '', extra] = text.split('/');
    const family = isIP(address);
    const length = /^\d+$/.test(bits) ? Number(bits) : -1;
    if (family === 0 || extra !== undefined || length < 0 || length > (family === 4 ? 32 : 128)) {
      throw new Error(`network address ${JSON.stringify(text)} parse error during conversion from string`);
    }
    this.ip = new IP(address);
    this.prefixLength = length;
    this.#block.addSubnet(address, length, family === 4 ? 'ipv4' : 'ipv6');
  }
  contains(ip: IP): boolean {
    return this.#block.check(ip.text, ip.family === 4 ? 'ipv4' : 'ipv6');
  }
}

const loopback = (ip: IP) => (ip.family === 4 ? ip.text.startsWith('127.') : new CIDR('::1/128').contains(ip));
const unspecified = (ip: IP) => (ip.family === 4 ? ip.text === '0.0.0.0' : new CIDR('::/128').contains(ip));
const valid = <T>(make: () => T) => {
  try {
    make();
    return true;
  } catch {
    return false;
  }
};

const order = (a: unknown, b: unknown) => ((a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0);

/** CEL equality for the values a schema gives rules: scalars by value, lists and maps by content. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  const text = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
  return text(a) === text(b);
}

function extreme(which: 'min' | 'max') {
  return (list: unknown[]) => {
    if (list.length === 0) throw new Error(`${which} called on empty list`);
    return list.reduce((m, v) => ((which === 'min' ? order(v, m) < 0 : order(v, m) > 0) ? v : m));
  };
}

function kubernetesEnvironment(): Environment {
  const env = new Environment({ unlistedVariablesAreDyn: true });
  for (const t of ['int', 'uint', 'double', 'string']) {
    env.registerFunction(`list<${t}>.isSorted(): bool`, (l: unknown[]) => l.every((v, i) => i === 0 || order(l[i - 1], v) <= 0));
    env.registerFunction(`list<${t}>.min(): ${t}`, extreme('min'));
    env.registerFunction(`list<${t}>.max(): ${t}`, extreme('max'));
  }
  env.registerFunction('list<int>.sum(): int', (l: bigint[]) => l.reduce((a, b) => a + b, 0n));
  env.registerFunction('list<uint>.sum(): uint', (l: bigint[]) => l.reduce((a, b) => a + b, 0n));
  env.registerFunction('list<double>.sum(): double', (l: number[]) => l.reduce((a, b) => a + b, 0));
  env.registerFunction('list<dyn>.indexOf(dyn): int', (l: unknown[], v: unknown) => BigInt(l.findIndex((x) => same(x, v))));
  env.registerFunction('list<dyn>.lastIndexOf(dyn): int', (l: unknown[], v: unknown) => BigInt(l.findLastIndex((x) => same(x, v))));
  // regex library: the first match ('' without one) and every match (at most n when n >= 0)
  env.registerFunction('string.find(string): string', (s: string, re: string) => new RegExp(re, 'u').exec(s)?.[0] ?? '');
  env.registerFunction('string.findAll(string): list<string>', (s: string, re: string) => [...s.matchAll(new RegExp(re, 'gu'))].map((m) => m[0]));
  env.registerFunction('string.findAll(string, int): list<string>', (s: string, re: string, n: bigint) => {
    const all = [...s.matchAll(new RegExp(re, 'gu'))].map((m) => m[0]);
    return n < 0n ? all : all.slice(0, Number(n));
  });
  env.registerType('Quantity', Quantity);
  env.registerFunction('isQuantity(string): bool', (s: string) => isQuantity(s));
  env.registerFunction('quantity(string): Quantity', quantityOf);
  env.registerFunction('Quantity.sign(): int', (q: Quantity) => BigInt(Math.sign(q.value)));
  env.registerFunction('Quantity.isInteger(): bool', (q: Quantity) => Number.isSafeInteger(q.value));
  env.registerFunction('Quantity.asInteger(): int', (q: Quantity) => {
    if (!Number.isSafeInteger(q.value)) throw new Error('cannot convert value to integer');
    return BigInt(q.value);
  });
  env.registerFunction('Quantity.asApproximateFloat(): double', (q: Quantity) => q.value);
  env.registerFunction('Quantity.add(Quantity): Quantity', (a: Quantity, b: Quantity) => new Quantity(a.value + b.value));
  env.registerFunction('Quantity.add(int): Quantity', (a: Quantity, b: bigint) => new Quantity(a.value + Number(b)));
  env.registerFunction('Quantity.sub(Quantity): Quantity', (a: Quantity, b: Quantity) => new Quantity(a.value - b.value));
  env.registerFunction('Quantity.sub(int): Quantity', (a: Quantity, b: bigint) => new Quantity(a.value - Number(b)));
  env.registerFunction('Quantity.isLessThan(Quantity): bool', (a: Quantity, b: Quantity) => a.value < b.value);
  env.registerFunction('Quantity.isGreaterThan(Quantity): bool', (a: Quantity, b: Quantity) => a.value > b.value);
  env.registerFunction('Quantity.compareTo(Quantity): int', (a: Quantity, b: Quantity) => BigInt(order(a.value, b.value)));
  env.registerType('net.IP', IP);
  env.registerType('net.CIDR', CIDR);
  env.registerFunction('isIP(string): bool', (s: string) => valid(() => new IP(s)));
  env.registerFunction('ip(string): net.IP', (s: string) => new IP(s));
  env.registerFunction('net.IP.family(): int', (ip: IP) => BigInt(ip.family));
  env.registerFunction('net.IP.isLoopback(): bool', loopback);
  env.registerFunction('net.IP.isUnspecified(): bool', unspecified);
  env.registerFunction('isCIDR(string): bool', (s: string) => valid(() => new CIDR(s)));
  env.registerFunction('cidr(string): net.CIDR', (s: string) => new CIDR(s));
  env.registerFunction('net.CIDR.containsIP(string): bool', (c: CIDR, s: string) => c.contains(new IP(s)));
  env.registerFunction('net.CIDR.containsIP(net.IP): bool', (c: CIDR, ip: IP) => c.contains(ip));
  env.registerFunction('net.CIDR.containsCIDR(string): bool', (c: CIDR, s: string) => {
    const inner = new CIDR(s);
    return inner.prefixLength >= c.prefixLength && c.contains(inner.ip);
  });
  env.registerFunction('net.CIDR.ip(): net.IP', (c: CIDR) => c.ip);
  env.registerFunction('net.CIDR.prefixLength(): int', (c: CIDR) => BigInt(c.prefixLength));
  return env;
}

export const celEnvironment = kubernetesEnvironment();

type Program = ReturnType<typeof celEnvironment.parse>;
const programs = new Map<string, Program>();

/** An expression compiled once (throws when it does not compile), for CRD rules and admission policies alike. */
export function celProgram(expression: string): Program {
  let p = programs.get(expression);
  if (!p) programs.set(expression, (p = celEnvironment.parse(expression)));
  return p;
}
