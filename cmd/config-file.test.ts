import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIG_FILE_ENV, withConfigFile } from './config-file.ts';

const own = { 'secure-port': { type: 'string' }, 'leader-elect': { type: 'boolean' }, 'api-audiences': { type: 'string' } } as const;
const others = { 'node-ip': { type: 'string' } } as const;

describe('the config file', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sk-config-'));
  });
  afterEach(async () => {
    delete process.env[CONFIG_FILE_ENV];
    await rm(dir, { recursive: true, force: true });
  });

  it("puts its flags before the command line's, leaves the other command's keys to it, and names keys no command takes", async () => {
    const path = join(dir, 'config.yaml');
    await writeFile(path, 'secure-port: 7443\nleader-elect: false\napi-audiences: [a, b]\nnode-ip: 10.0.0.2\ncolour: blue\n');
    process.env[CONFIG_FILE_ENV] = path;
    expect(withConfigFile(['--secure-port', '8443'], own, others)).toEqual({
      args: ['--secure-port', '7443', '--no-leader-elect', '--api-audiences', 'a', '--api-audiences', 'b', '--secure-port', '8443'],
      unknown: ['colour'],
    });
  });

  it('is optional, and a file that is no mapping is an error naming it', async () => {
    process.env[CONFIG_FILE_ENV] = join(dir, 'missing.yaml');
    expect(withConfigFile(['-h'], own, others)).toEqual({ args: ['-h'], unknown: [] });
    const path = join(dir, 'list.yaml');
    await writeFile(path, '- a\n');
    process.env[CONFIG_FILE_ENV] = path;
    expect(() => withConfigFile([], own, others)).toThrow(`${path}: must be a mapping of flag names to values`);
  });
});
