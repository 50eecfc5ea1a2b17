import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ConfigMap, DownwardAPIVolumeFile, KeyToPath, Pod, Secret, Volume } from 'kubernetes-types/core/v1.js';
import { mountAt, mountsUnder, resourceFieldValue } from '../../apimachinery/index.ts';
import { writeAtomic, type VolumeFile } from './atomic-writer.ts';
import { podMetadataField } from './field-path.ts';

const run = promisify(execFile);

/** Where a pod's ConfigMaps and Secrets come from (the API server). */
export interface ObjectSource {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  /** a token for the pod's service account, bound to the pod (projected serviceAccountToken sources) */
  serviceAccountToken?(pod: Pod, audience: string | undefined, expirationSeconds: number): Promise<string>;
  /** the node's allocatable resources, what a downward API resourceFieldRef to an unset limit reads */
  nodeAllocatable?(): Record<string, string> | undefined;
}

/** Why a volume cannot be set up, worded as the kubelet's FailedMount events. */
export class VolumeError extends Error {}

/** The volume plugin for persistentVolumeClaim volumes (CSI); errors it throws are worded already. */
export interface ClaimVolumes {
  setUp(pod: Pod, v: Volume, podDir: string): Promise<PreparedVolume>;
  tearDown(podDir: string): Promise<void>;
}

/** A VolumeError whose message is the whole kubelet sentence already (not wrapped in "MountVolume.SetUp failed …" again). */
export class WordedVolumeError extends VolumeError {}

export interface PreparedVolume {
  hostPath: string;
  readOnly: boolean;
}

const DEFAULT_MODE = 0o644;

/**
 * The files of a ConfigMap or Secret volume: every key, or the listed items
 * at their paths; an optional volume skips an item whose key is missing (its
 * file appears once the key does), as the kubelet does.
 */
function keyFiles(
  data: Record<string, Buffer>,
  o: { items: KeyToPath[] | undefined; defaultMode: number; optional: boolean; what: string },
): Map<string, VolumeFile> {
  const { items, defaultMode, what } = o;
  const files = new Map<string, VolumeFile>();
  if (!items?.length) {
    for (const [k, v] of Object.entries(data)) files.set(k, { content: v, mode: defaultMode });
    return files;
  }
  for (const item of items) {
    const v = data[item.key];
    if (v === undefined && o.optional) continue;
    if (v === undefined) throw new VolumeError(`configmap references non-existent config key: ${item.key}`.replace('configmap', what));
    files.set(item.path, { content: v, mode: item.mode ?? defaultMode });
  }
  return files;
}

function configMapData(cm: ConfigMap): Record<string, Buffer> {
  return {
    ...Object.fromEntries(Object.entries(cm.data ?? {}).map(([k, v]) => [k, Buffer.from(v)])),
    ...Object.fromEntries(Object.entries(cm.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  };
}

function secretData(s: Secret): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

function downwardValue(pod: Pod, f: DownwardAPIVolumeFile, allocatable: Record<string, string> | undefined): string {
  const ref = f.resourceFieldRef;
  if (ref) {
    const divisor = ref.divisor === undefined ? undefined : String(ref.divisor);
    return resourceFieldValue({ pod, containerName: ref.containerName ?? '', resource: ref.resource, divisor, allocatable });
  }
  return podMetadataField(pod, f.fieldRef?.fieldPath ?? '') ?? '';
}

/**
 * Sets up a pod's volumes under its directory on the node and says where each
 * one is: emptyDir (a directory, or tmpfs for medium Memory), hostPath (with
 * its type checked or the directory made), and configMap, secret,
 * downwardAPI and projected volumes written atomically, rewritten when their
 * sources change (so a sync after an update refreshes them).
 */
export async function setUpVolumes(pod: Pod, podDir: string, source: ObjectSource, claims?: ClaimVolumes): Promise<Map<string, PreparedVolume>> {
  const ns = pod.metadata?.namespace ?? 'default';
  const out = new Map<string, PreparedVolume>();
  for (const v of pod.spec?.volumes ?? []) {
    try {
      out.set(v.name, v.persistentVolumeClaim && claims ? await claims.setUp(pod, v, podDir) : await setUp(pod, ns, v, podDir, source));
    } catch (err) {
      if (err instanceof WordedVolumeError) throw err;
      const why = err instanceof VolumeError ? err.message : (err as Error).message;
      throw new VolumeError(`MountVolume.SetUp failed for volume "${v.name}" : ${why}`);
    }
  }
  return out;
}

async function setUp(pod: Pod, ns: string, v: Volume, podDir: string, source: ObjectSource): Promise<PreparedVolume> {
  const dir = (plugin: string) => join(podDir, 'volumes', plugin, v.name);
  if (v.emptyDir) {
    const path = dir('kubernetes.io~empty-dir');
    await mkdir(path, { recursive: true });
    // writable by every user a container may run as, as the kubelet makes it (0777, not the umask's 0755 or tmpfs's 1777)
    if (v.emptyDir.medium === 'Memory' && !(await mountAt(path))) {
      const size = v.emptyDir.sizeLimit ? `,size=${v.emptyDir.sizeLimit.replace(/i$/, '')}` : '';
      await run('mount', ['-t', 'tmpfs', '-o', `mode=0777${size}`, 'tmpfs', path]);
    } else if (v.emptyDir.medium !== 'Memory') await chmod(path, 0o777);
    return { hostPath: path, readOnly: false };
  }
  if (v.hostPath) return { hostPath: await hostPath(v.hostPath.path, v.hostPath.type ?? '', v.name), readOnly: false };
  if (v.configMap || v.secret || v.downwardAPI || v.projected) {
    const path = dir(
      v.configMap ? 'kubernetes.io~configmap' : v.secret ? 'kubernetes.io~secret' : v.downwardAPI ? 'kubernetes.io~downward-api' : 'kubernetes.io~projected',
    );
    const fsGroup = pod.spec?.securityContext?.fsGroup;
    const files = await filesOf(pod, ns, v, source);
    // with an fsGroup the files are the group's and group-readable, as the kubelet sets a read-only volume's ownership
    if (fsGroup !== undefined) for (const f of files.values()) f.mode |= 0o440;
    await writeAtomic(path, files, { current: await currentFiles(path, files), group: fsGroup });
    return { hostPath: path, readOnly: true };
  }
  if (v.persistentVolumeClaim) throw new VolumeError(`volume "${v.name}": no CSI volume plugin on this node`);
  if (v.csi || v.ephemeral) throw new VolumeError(`volume "${v.name}": inline CSI and generic ephemeral volumes are not supported on this node`);
  throw new VolumeError(`volume "${v.name}" has no source this node supports`);
}

async function filesOf(pod: Pod, ns: string, v: Volume, source: ObjectSource): Promise<Map<string, VolumeFile>> {
  if (v.configMap) {
    const cm = await source.configMap(ns, v.configMap.name ?? '');
    if (!cm) {
      if (v.configMap.optional) return new Map();
      throw new VolumeError(`configmap "${v.configMap.name}" not found`);
    }
    return keyFiles(configMapData(cm), {
      items: v.configMap.items,
      defaultMode: v.configMap.defaultMode ?? DEFAULT_MODE,
      optional: v.configMap.optional ?? false,
      what: 'configmap',
    });
  }
  if (v.secret) {
    const s = await source.secret(ns, v.secret.secretName ?? '');
    if (!s) {
      if (v.secret.optional) return new Map();
      throw new VolumeError(`secret "${v.secret.secretName}" not found`);
    }
    return keyFiles(secretData(s), {
      items: v.secret.items,
      defaultMode: v.secret.defaultMode ?? DEFAULT_MODE,
      optional: v.secret.optional ?? false,
      what: 'secret',
    });
  }
  if (v.downwardAPI) {
    return new Map(
      (v.downwardAPI.items ?? []).map((f) => [
        f.path,
        { content: Buffer.from(downwardValue(pod, f, source.nodeAllocatable?.())), mode: f.mode ?? v.downwardAPI?.defaultMode ?? DEFAULT_MODE },
      ]),
    );
  }
  const files = new Map<string, VolumeFile>();
  const mode = v.projected?.defaultMode ?? DEFAULT_MODE;
  for (const p of v.projected?.sources ?? []) {
    let part = new Map<string, VolumeFile>();
    if (p.configMap) part = await filesOf(pod, ns, { name: v.name, configMap: { ...p.configMap, defaultMode: mode } }, source);
    else if (p.secret)
      part = await filesOf(
        pod,
        ns,
        { name: v.name, secret: { secretName: p.secret.name, items: p.secret.items, optional: p.secret.optional, defaultMode: mode } },
        source,
      );
    else if (p.downwardAPI) part = await filesOf(pod, ns, { name: v.name, downwardAPI: { ...p.downwardAPI, defaultMode: mode } }, source);
    else if (p.serviceAccountToken) {
      if (!source.serviceAccountToken) throw new VolumeError('service account tokens are not available on this node');
      const token = await source
        .serviceAccountToken(pod, p.serviceAccountToken.audience, p.serviceAccountToken.expirationSeconds ?? 3600)
        .catch((err: Error) => {
          throw new VolumeError(`failed to fetch token: ${err.message}`);
        });
      part.set(p.serviceAccountToken.path, { content: Buffer.from(token), mode });
    }
    for (const [k, f] of part) files.set(k, f);
  }
  return files;
}

/** What the volume holds now, to skip rewriting unchanged content. */
async function currentFiles(dir: string, wanted: Map<string, VolumeFile>): Promise<Map<string, VolumeFile> | undefined> {
  const out = new Map<string, VolumeFile>();
  try {
    for (const [path, f] of wanted) out.set(path, { content: await readFile(join(dir, '..data', path)), mode: f.mode });
    return out;
  } catch {
    return undefined;
  }
}

/** A hostPath checked against its type (or made, for DirectoryOrCreate). */
async function hostPath(path: string, type: string, name: string): Promise<string> {
  const st = await stat(path).catch(() => undefined);
  switch (type) {
    case 'DirectoryOrCreate':
      if (!st) await mkdir(path, { recursive: true, mode: 0o755 });
      else if (!st.isDirectory()) throw new VolumeError(`hostPath type check failed: ${path} is not a directory`);
      break;
    case 'Directory':
      if (!st?.isDirectory()) throw new VolumeError(`hostPath type check failed: ${path} is not a directory`);
      break;
    case 'File':
      if (!st?.isFile()) throw new VolumeError(`hostPath type check failed: ${path} is not a file`);
      break;
    case 'Socket':
      if (!st?.isSocket()) throw new VolumeError(`hostPath type check failed: ${path} is not a socket file`);
      break;
    case '':
      break;
    default:
      if (!st) throw new VolumeError(`volume "${name}": hostPath ${path} does not exist`);
  }
  return path;
}

/**
 * Unmounts a pod's volumes (CSI ones through their driver, tmpfs directly)
 * and removes its volume directories. Nothing is removed while anything is
 * still mounted below them: that would delete a persistent volume's data.
 */
export async function tearDownVolumes(podDir: string, claims?: ClaimVolumes): Promise<void> {
  const root = join(podDir, 'volumes');
  await claims?.tearDown(podDir);
  // a mount that will not go makes the rm below fail, and that failure is reported
  for (const m of await mountsUnder([root])) await run('umount', [m]).catch(() => undefined);
  const left = await mountsUnder([root]);
  if (left.length) throw new VolumeError(`cannot remove the volumes of ${podDir}: still mounted: ${left.join(', ')}`);
  await rm(root, { recursive: true, force: true });
}
