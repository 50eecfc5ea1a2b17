// The agent's CNI runner with the real plugins: its sweep gives back the IP
// of a sandbox whose network was never deleted (its namespace gone without a
// DEL) and leaves live and just-added ones alone; and it speaks CNI 0.4.0 as
// well as 1.0.0 (ADD, CHECK, DEL).
import { execFile } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CniRunner } from '../../agent/index.ts';
import { startTestNode, type TestNode } from '../../lab/testbed/index.ts';
import { addNetns } from '../../apimachinery/index.ts';

const run = promisify(execFile);
let node: TestNode;
let runner: CniRunner;
const namespaces: string[] = [];

async function netns(): Promise<string> {
  const name = `sksw-${randomBytes(3).toString('hex')}`;
  await addNetns(name);
  namespaces.push(name);
  return name;
}

/** The addresses host-local holds in this node's range. */
async function allocated(): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(node.ipamDir).catch(() => [] as string[]))
    out.push(...(await readdir(`${node.ipamDir}/${d}`)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)));
  return out;
}

beforeAll(async () => {
  node = await startTestNode('sweep', 214);
  runner = new CniRunner({ confDir: node.cniConfDir, binDirs: ['/usr/lib/cni'], cacheDir: node.cniCacheDir });
});

afterAll(async () => {
  for (const n of namespaces) await run('ip', ['netns', 'del', n]).catch(() => undefined);
  await node?.teardown();
});

describe('CNI sweep', () => {
  it('frees the network of a sandbox the runtime lost, and keeps live and new ones', async () => {
    const leakyNs = await netns();
    const liveNs = await netns();
    const attach = (id: string, ns: string) =>
      runner.add({ containerId: id, netns: `/var/run/netns/${ns}`, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=sweep;K8S_POD_NAME=${id}` });
    await attach('leaky-sandbox', leakyNs);
    await attach('live-sandbox', liveNs);
    expect((await allocated()).length).toBe(2);
    // just added: left alone while the runtime may not list it yet
    expect(await runner.sweep(new Set())).toEqual([]);
    // the leaky sandbox's namespace goes without a DEL
    await run('ip', ['netns', 'del', leakyNs]);
    expect(await runner.sweep(new Set(['live-sandbox']), { minAgeMs: 0 })).toEqual(['leaky-sandbox']);
    expect((await allocated()).length).toBe(1);
    expect((await readdir(node.cniCacheDir)).join()).not.toContain('leaky-sandbox');
    // a second sweep finds nothing more, and the live one is deleted normally
    expect(await runner.sweep(new Set(['live-sandbox']), { minAgeMs: 0 })).toEqual([]);
    await runner.del({ containerId: 'live-sandbox', netns: `/var/run/netns/${liveNs}`, ifName: 'eth0', args: '' });
    expect(await allocated()).toEqual([]);
  });

  it('runs a CNI 0.4.0 conflist: ADD, CHECK against the cached result, DEL', async () => {
    const confDir = join(node.dir, 'net.d-040');
    await mkdir(confDir, { recursive: true });
    await writeFile(
      join(confDir, '10-old.conflist'),
      JSON.stringify({
        cniVersion: '0.4.0',
        name: 'skiff-test-040',
        plugins: [
          {
            type: 'bridge',
            bridge: `${node.bridge}o`,
            isGateway: true,
            ipam: { type: 'host-local', dataDir: join(node.dir, 'ipam-040'), ranges: [[{ subnet: '10.244.216.0/24' }]] },
          },
          { type: 'loopback' },
        ],
      }),
    );
    const old = new CniRunner({ confDir, binDirs: ['/usr/lib/cni'], cacheDir: join(node.dir, 'cache-040') });
    const ns = await netns();
    const a = { containerId: 'old-spec', netns: `/var/run/netns/${ns}`, ifName: 'eth0', args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=sweep;K8S_POD_NAME=old' };
    try {
      const result = (await old.add(a)) as { cniVersion: string; ips: { version?: string; address: string }[] };
      expect(result.cniVersion).toBe('0.4.0');
      // 0.4.0 results still name each address's IP version (1.0.0 dropped the field)
      expect(result.ips[0]).toMatchObject({ version: '4', address: expect.stringMatching(/^10\.244\.216\.\d+\/24$/) });
      await old.check(a);
      await old.del(a);
      await old.del(a);
    } finally {
      await run('ip', ['link', 'del', `${node.bridge}o`]).catch(() => undefined);
    }
  });
});
