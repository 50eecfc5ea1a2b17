// The agent's CNI sweep with the real plugins: a sandbox whose network was
// never deleted (its namespace gone without a DEL) gets its IP back; a live
// one and a just-added one are left alone.
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CniRunner } from '../../agent/index.ts';
import { startTestNode, type TestNode } from '../harness/index.ts';

const run = promisify(execFile);
let node: TestNode;
let runner: CniRunner;
const namespaces: string[] = [];

async function netns(): Promise<string> {
  const name = `sksw-${randomBytes(3).toString('hex')}`;
  await run('ip', ['netns', 'add', name]);
  namespaces.push(name);
  return name;
}

/** The addresses host-local holds in this node's range. */
async function allocated(): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(node.ipamDir).catch(() => [] as string[])) out.push(...(await readdir(`${node.ipamDir}/${d}`)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)));
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
    const attach = (id: string, ns: string) => runner.add({ containerId: id, netns: `/var/run/netns/${ns}`, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=sweep;K8S_POD_NAME=${id}` });
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
});
