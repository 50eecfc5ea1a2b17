import type { ConfigMap, Secret } from 'kubernetes-types/core/v1.js';
import { ApiError, type RestClient } from '../../apimachinery/index.ts';
import type { ObjectSource } from './pod-volumes.ts';

/** ConfigMaps and Secrets read from the API server as the node; a missing one is undefined. */
export function apiObjects(client: RestClient): ObjectSource {
  const get = async <T>(resource: string, namespace: string, name: string): Promise<T | undefined> => {
    try {
      return await client.get<T>({ resource, namespace, name });
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw err;
    }
  };
  return {
    configMap: (namespace, name) => get<ConfigMap>('configmaps', namespace, name),
    secret: (namespace, name) => get<Secret>('secrets', namespace, name),
  };
}
