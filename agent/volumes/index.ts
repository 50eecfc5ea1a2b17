export { setUpVolumes, tearDownVolumes, VolumeError, WordedVolumeError } from './pod-volumes.ts';
export type { ClaimVolumes, ObjectSource, PreparedVolume } from './pod-volumes.ts';
export { resolveEnvRefs, EnvError } from './env-refs.ts';
export type { ResolvedEnv } from './env-refs.ts';
export { apiObjects } from './api-objects.ts';
export type { ApiObjects } from './api-objects.ts';
export { watchPodSources } from './source-watch.ts';
export { podMetadataField } from './field-path.ts';
export { ServiceAccountTokenCache } from './token-cache.ts';
