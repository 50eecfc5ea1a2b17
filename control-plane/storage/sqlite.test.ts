import { describe } from 'vitest';
import { SqliteStorage } from './sqlite.ts';
import { storageContract } from './storage-contract.ts';

describe('SqliteStorage', () => {
  storageContract(() => new SqliteStorage(':memory:'));
});
