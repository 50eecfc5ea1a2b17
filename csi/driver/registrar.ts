import * as grpc from '@grpc/grpc-js';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../apimachinery/index.ts';
import { registrationService } from '../proto.ts';

export const CSI_PLUGIN_TYPE = 'CSIPlugin';

/** Where a plugin's registration socket goes in the agent's registry directory. */
export function registrationSocket(registryDir: string, driverName: string): string {
  return join(registryDir, `${driverName}-reg.sock`);
}

/**
 * Announces a CSI driver to the node agent the way node-driver-registrar
 * does for the kubelet: a Registration socket in the registry directory that
 * names the driver and its endpoint. `registered` hears the agent's verdict.
 */
export async function serveRegistration(o: {
  registryDir: string;
  driverName: string;
  endpoint: string;
  log: Logger;
  registered?: (ok: boolean, error: string) => void;
}): Promise<{ socket: string; server: grpc.Server }> {
  await mkdir(o.registryDir, { recursive: true });
  const socket = registrationSocket(o.registryDir, o.driverName);
  await rm(socket, { force: true });
  const server = new grpc.Server();
  server.addService(registrationService().service, {
    GetInfo: (_call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) =>
      cb(null, { type: CSI_PLUGIN_TYPE, name: o.driverName, endpoint: o.endpoint, supportedVersions: ['1.0.0'] }),
    NotifyRegistrationStatus: (call: grpc.ServerUnaryCall<{ pluginRegistered: boolean; error: string }, object>, cb: grpc.sendUnaryData<object>) => {
      const { pluginRegistered, error } = call.request;
      if (pluginRegistered) o.log.info({ driver: o.driverName }, 'registered with the node agent');
      else o.log.warn({ driver: o.driverName, error }, 'the node agent refused the registration');
      o.registered?.(pluginRegistered, error);
      cb(null, {});
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  return { socket, server };
}
