// /run/netns and named network namespaces, each case in a private mount
// namespace of its own (nothing it mounts or unmounts reaches the host): on a
// host where /run/netns is no mount point and a pod's namespace is mounted
// there, making a lab namespace must not hide the pod's (which containerd
// could then never remove: EBUSY); on a fresh host /run/netns becomes a
// shared mount point of its own.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const NETNS_MODULE = fileURLToPath(new URL('../../apimachinery/netns.ts', import.meta.url));

/** Runs `body` (an ES module's statements, with the netns module's exports and `sh`) in a private mount namespace whose /run/netns is no mount point. */
async function inPrivateMounts(body: string): Promise<string> {
  const script = `
import { execFileSync } from 'node:child_process';
import { addNetns, ensureNetnsMountPoint } from ${JSON.stringify(NETNS_MODULE)};
const sh = (cmd) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });
// as on a fresh host: whatever is mounted on /run/netns is not, in here
sh('while mountpoint -q /run/netns; do umount -l /run/netns; done; mkdir -p /run/netns');
${body}`;
  const { stdout } = await run('unshare', ['--mount', '--propagation', 'private', process.execPath, '--input-type=module', '-e', script]);
  return stdout;
}

describe('/run/netns', () => {
  it('makes a lab namespace beside a pod namespace without hiding it: the pod namespace can still be removed', async () => {
    const id = randomBytes(3).toString('hex');
    const out = await inPrivateMounts(`
try {
  // containerd's way: an nsfs mount on a file, with no mount point at /run/netns
  sh('touch /run/netns/skt-pod-${id} && unshare --net=/run/netns/skt-pod-${id} true');
  console.log('dir:', await ensureNetnsMountPoint());
  await addNetns('skt-lab-${id}');
  sh('ip -n skt-lab-${id} link show lo >/dev/null');
  // what RemovePodSandbox does: unmount and unlink; it fails with EBUSY if the pod's mount is hidden under another
  sh('umount /run/netns/skt-pod-${id} && rm /run/netns/skt-pod-${id}');
  console.log('pod namespace removed');
} finally {
  sh('ip netns del skt-lab-${id} 2>/dev/null; umount /run/netns/skt-pod-${id} 2>/dev/null; rm -f /run/netns/skt-pod-${id} /run/netns/skt-lab-${id}');
}`);
    expect(out).toContain('dir: busy');
    expect(out).toContain('pod namespace removed');
  });

  it('makes /run/netns a shared mount point of its own on a fresh host, once', async () => {
    const out = await inPrivateMounts(`
console.log('first:', await ensureNetnsMountPoint());
console.log('second:', await ensureNetnsMountPoint());
console.log(sh('findmnt -n -o PROPAGATION /run/netns').trim());
sh('umount /run/netns');`);
    expect(out).toContain('first: mounted');
    expect(out).toContain('second: already');
    expect(out).toMatch(/^shared$/m);
  });
});
