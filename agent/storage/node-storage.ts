import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { EventRecorder, Informer, type Logger, type RestClient } from '../../apimachinery/index.ts';
import { every } from '../every.ts';
import { syncCsiNode } from './csi-node.ts';
import { CsiVolumes, type ClaimSource } from './csi-volumes.ts';
import { PluginRegistry, pluginRegistryDir } from './plugins.ts';
import { NodeProvisioner } from './provisioner.ts';
import { NodeResizer } from './resizer.ts';

/**
 * The node's side of CSI: the plugin registry, the volumes its pods mount,
 * the CSINode object kept in step with the registered plugins, and the
 * storage sidecars (provisioning, deletion and expansion) for drivers
 * registered here. Resolves once the registry is watching.
 */
export async function startNodeStorage(o: {
  client: RestClient;
  nodeName: string;
  rootDir: string;
  podsDir: string;
  claims: ClaimSource;
  log: Logger;
  signal: AbortSignal;
}): Promise<CsiVolumes> {
  const { client, nodeName, rootDir, signal } = o;
  const log = o.log.child({ component: 'csi' });
  const plugins = new PluginRegistry(pluginRegistryDir(rootDir), log);
  const claims = new Informer<PersistentVolumeClaim>(client, { resource: 'persistentvolumeclaims' }, { log });
  const volumes = new Informer<PersistentVolume>(client, { resource: 'persistentvolumes' }, { log });
  const classes = new Informer<StorageClass>(client, { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' }, { log });
  const events = new EventRecorder(client, { component: `csi-sidecars/${nodeName}`, host: nodeName }, log);
  const provisioner = new NodeProvisioner({ client, nodeName, plugins, events, log, claims, volumes, classes });
  const resizer = new NodeResizer({ client, plugins, events, log, rootDir, claims, volumes });
  const csiVolumes = new CsiVolumes({
    plugins,
    claims: o.claims,
    rootDir,
    podsDir: o.podsDir,
    log,
    afterStage: (claim, pv) => resizer.expandOnNode(claim, pv),
  });
  syncCsiNodeWhenChanged({ client, nodeName, plugins, log, signal });
  await plugins.run(signal);
  for (const informer of [claims, volumes, classes] as Informer<object>[]) void informer.run(signal);
  void provisioner.run(signal);
  void resizer.run(signal);
  return csiVolumes;
}

/** Keeps the CSINode object (and the Node's CSI annotation and topology labels) in step with the registered plugins, retrying until it lands. */
function syncCsiNodeWhenChanged(o: { client: RestClient; nodeName: string; plugins: PluginRegistry; log: Logger; signal: AbortSignal }): void {
  let pending = true;
  o.plugins.onChange(() => {
    pending = true;
  });
  void every(
    1000,
    o.signal,
    async () => {
      if (!pending) return;
      pending = false;
      try {
        await syncCsiNode(o.client, o.nodeName, o.plugins.all().values(), o.log);
      } catch (err) {
        pending = true;
        throw err;
      }
    },
    (err) => o.log.warn({ err: err.message }, 'CSINode update failed'),
  );
}
