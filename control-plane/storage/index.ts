export { SqliteStorage } from './sqlite.ts';
export { StorageError, prefixEnd } from './types.ts';
export type { Storage, KeyValue, StorageEvent, ListResult, ListOptions, CompactionClaim } from './types.ts';
export { openStorage, sqlitePath } from './open.ts';
export { Compactor } from './compactor.ts';
export { EncryptingStorage, loadEncryptionConfig, parseEncryptionConfig, secretsEncryptionConfig, type EncryptionRule } from './encryption/index.ts';
export { MeasuredStorage } from './measured-storage.ts';
export { StorageLayer } from './storage-layer.ts';
