export { CniRunner, pluginConfig } from './runner.ts';
export type { Attachment, CniRunnerOptions } from './runner.ts';
export { serveCniDelegate, parseCniArgs } from './delegate-server.ts';
export { loadNetwork, parseNetwork, withPodCidr, ConfListError } from './conflist.ts';
export type { NetworkConfList, PluginConf } from './conflist.ts';
export { CniError, execPlugin } from './exec-plugin.ts';
