import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Secret } from 'kubernetes-types/core/v1.js';
import { ApiError, type RestClient } from '../../apimachinery/index.ts';
import type { ObjectSource } from './pod-volumes.ts';

/** What a pod's volumes and env refer to, read from the API server as the node; a missing object is undefined. */
export interface ApiObjects extends ObjectSource {
  claim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  volume(name: string): Promise<PersistentVolume | undefined>;
}

export function apiObjects(client: RestClient): ApiObjects {
  const get = async <T>(resource: string, namespace: string | undefined, name: string): Promise<T | undefined> => {
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
    claim: (namespace, name) => get<PersistentVolumeClaim>('persistentvolumeclaims', namespace, name),
    volume: (name) => get<PersistentVolume>('persistentvolumes', undefined, name),
  };
}
