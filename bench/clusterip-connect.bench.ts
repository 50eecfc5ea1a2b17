// Connection set-up latency through a ClusterIP of the Service proxy's
// nftables table holding 10 and then 10,000 Services (10 endpoints each):
// flat is the goal, since a packet's path is a few map lookups whatever the
// number of Services. A client and a server each in a network namespace of
// this bench's own on a bridge of its own; only the server's address and the
// table's ClusterIPs are ever connected to, and everything is removed after.
import { execFile, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { writeFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { addNetns } from '../apimachinery/index.ts';
import { ProxyState, cleanupProxy, nft, renderRuleset, serviceFragment, type ServicePortRule } from '../agent/index.ts';
import { percentile } from './stats.ts';

const run = promisify(execFile);
const CONNECTS = 2000;
const table = `skiff-bench-conn-${process.pid}`;
const bridge = `skbc${process.pid % 10000}`;
const [client, server] = [`skbc-c-${process.pid}`, `skbc-s-${process.pid}`];
const SUBNET = '10.244.252';
const SERVICE_IP = '10.96.255.1';
const opts = { table, clusterCidr: '10.244.0.0/16' };
const base = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };

const ip = (prefix: string, i: number) => `${prefix}.${(i >> 8) & 255}.${i & 255}`;

async function sh(cmd: string, args: string[]): Promise<void> {
  await run(cmd, args);
}

async function setUp(): Promise<void> {
  await sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
  await sh('ip', ['addr', 'add', `${SUBNET}.1/24`, 'dev', bridge]);
  await sh('ip', ['link', 'set', bridge, 'up']);
  for (const [ns, host] of [
    [client, 2],
    [server, 3],
  ] as const) {
    await addNetns(ns);
    await sh('ip', ['link', 'add', `${ns.slice(-9)}h`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await sh('ip', ['link', 'set', `${ns.slice(-9)}h`, 'master', bridge, 'up']);
    await sh('ip', ['-n', ns, 'addr', 'add', `${SUBNET}.${host}/24`, 'dev', 'eth0']);
    await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await sh('ip', ['-n', ns, 'route', 'add', 'default', 'via', `${SUBNET}.1`]);
  }
  await sh('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
}

async function tearDown(): Promise<void> {
  for (const ns of [client, server]) await sh('ip', ['netns', 'del', ns]).catch(() => undefined);
  await sh('ip', ['link', 'del', bridge]).catch(() => undefined);
  await cleanupProxy(table).catch(() => undefined);
}

/** The Service the client connects to, and `n - 1` others that are only there to fill the table. */
async function program(n: number): Promise<void> {
  const state = new ProxyState();
  const real: ServicePortRule = { id: 'bench/target:', protocol: 'tcp', clusterIP: SERVICE_IP, port: 80, endpoints: [{ ip: `${SUBNET}.3`, port: 8080 }] };
  state.replace('target', serviceFragment(real, opts));
  for (let i = 1; i < n; i++) {
    state.replace(
      `filler-${i}`,
      serviceFragment(
        {
          id: `bench/filler-${i}:`,
          protocol: 'tcp',
          clusterIP: ip('10.96', i + 256),
          port: 80,
          endpoints: Array.from({ length: 10 }, (_, e) => ({ ip: ip(`10.${200 + e}`, i), port: 8080 })),
        },
        opts,
      ),
    );
  }
  await nft(renderRuleset(state.contents(), opts));
}

/** Connects CONNECTS times from the client namespace; returns each connect's latency in ms. */
async function measure(dir: string): Promise<number[]> {
  const script = join(dir, 'connect.mjs');
  await writeFile(
    script,
    `
import { connect } from 'node:net';
const out = [];
for (let i = 0; i < ${CONNECTS}; i++) {
  const t = process.hrtime.bigint();
  await new Promise((resolve, reject) => {
    const s = connect({ host: '${SERVICE_IP}', port: 80 }, () => { out.push(Number(process.hrtime.bigint() - t) / 1e6); s.destroy(); resolve(); });
    s.on('error', reject);
    s.setTimeout(2000, () => reject(new Error('connect timed out')));
  });
}
process.stdout.write(JSON.stringify(out));
`,
  );
  const { stdout } = await run('ip', ['netns', 'exec', client, process.execPath, script], { maxBuffer: 1 << 24 });
  return JSON.parse(stdout) as number[];
}

const dir = await mkdtemp(join(tmpdir(), 'sk-connbench-'));
let listener: ReturnType<typeof spawn> | undefined;
try {
  await setUp();
  // a TCP listener in the server namespace that accepts and closes
  listener = spawn(
    'ip',
    ['netns', 'exec', server, process.execPath, '-e', `require('node:net').createServer((s) => s.destroy()).listen(8080, () => console.log('listening'))`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((resolve) => listener?.stdout?.once('data', resolve));
  for (const n of [10, 10_000]) {
    await program(n);
    await measure(dir); // warm-up: caches, conntrack, ARP
    const xs = await measure(dir);
    process.stdout.write(
      `${JSON.stringify({ name: `clusterip-connect/${n}-services`, services: n, connects: xs.length, p50_ms: +percentile(xs, 50).toFixed(3), p99_ms: +percentile(xs, 99).toFixed(3), ...base })}\n`,
    );
  }
} finally {
  listener?.kill('SIGKILL');
  await tearDown();
  await rm(dir, { recursive: true, force: true });
}
