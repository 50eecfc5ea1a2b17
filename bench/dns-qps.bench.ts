// Cluster DNS throughput: queries per second the DNS add-on of `skiff server`
// answers for a Service name, from a client keeping 64 queries in flight over
// UDP for 10 s (to the add-on's own socket on loopback; a pod reaches it
// through the kube-dns ClusterIP, one DNAT more: see clusterip-connect).
import { createSocket } from 'node:dgram';
import { cpus, tmpdir } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { freePort } from '../lab/testbed/index.ts';
import { startTestApiServer } from '../lab/testbed/index.ts';
import { rssKiB } from './rss.ts';

const WINDOW = 64;
const DURATION_MS = 10_000;
const NAME = 'web.default.svc.cluster.local';
const base = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };

const dir = await mkdtemp(join(tmpdir(), 'sk-dnsbench-'));
const port = await freePort();
// the last --cluster-dns-port wins: the add-on listens where this bench looks
const api = await startTestApiServer(dir, ['--cluster-dns-port', String(port)]);
const socket = createSocket('udp4');
try {
  await api.kubectl('create', 'service', 'clusterip', 'web', '--tcp=80:8080');
  const query = (id: number) => dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: NAME }] });
  const clusterIP = await api.kubectl('get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}');
  let answered = 0;
  /** answers that carry the Service's ClusterIP */
  let correct = 0;
  let sendNext: () => void = () => undefined;
  socket.on('message', (msg) => {
    answered++;
    if (dnsPacket.decode(msg).answers?.some((a) => a.type === 'A' && a.data === clusterIP)) correct++;
    sendNext();
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  // wait until the add-on knows the Service
  for (let i = 0; i < 100 && correct === 0; i++) {
    socket.send(query(1), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
  }
  if (correct === 0) throw new Error(`the DNS add-on does not answer ${NAME}`);
  answered = 0;
  correct = 0;
  let id = 0;
  let running = true;
  sendNext = () => {
    if (running) socket.send(query(++id & 0xffff), port, '127.0.0.1');
  };
  const started = performance.now();
  for (let i = 0; i < WINDOW; i++) sendNext();
  await new Promise((r) => setTimeout(r, DURATION_MS));
  running = false;
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `${JSON.stringify({ name: 'dns/udp-service-a-record', window: WINDOW, seconds: +seconds.toFixed(1), queries_per_second: Math.round(answered / seconds), correct_share: +(correct / Math.max(answered, 1)).toFixed(3), server_rss_kib: await rssKiB(api.server.pid), ...base })}\n`,
  );
} finally {
  socket.close();
  await api.stop();
  await rm(dir, { recursive: true, force: true });
}
