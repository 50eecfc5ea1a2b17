export { EncryptingStorage } from './encrypting-storage.ts';
export { loadEncryptionConfig, parseEncryptionConfig, secretsEncryptionConfig, type EncryptionRule } from './config.ts';
