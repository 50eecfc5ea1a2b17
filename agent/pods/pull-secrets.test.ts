import type { Secret } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { pullCredentials, registryOf } from './pull-secrets.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const configJson = (auths: object): Secret => ({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) } });

describe('image pull secrets', () => {
  it('finds the registry of an image reference', () => {
    expect(registryOf('busybox')).toBe('docker.io');
    expect(registryOf('library/busybox:1.36')).toBe('docker.io');
    expect(registryOf('registry.example.com/team/app@sha256:abc')).toBe('registry.example.com');
    expect(registryOf('localhost:5000/app')).toBe('localhost:5000');
  });

  it("gives the entries naming the image's registry, from auth or username and password", () => {
    const secrets = [
      configJson({ 'https://index.docker.io/v1/': { auth: b64('hub:pw:with:colons') }, 'registry.example.com': { username: 'u', password: 'p' } }),
      { type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify({ 'http://registry.example.com/v2/': { auth: b64('old:cfg') } })) } },
      { type: 'Opaque', data: { '.dockerconfigjson': b64('{"auths":{"registry.example.com":{"username":"x","password":"y"}}}') } },
      { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('not json') } },
    ] as Secret[];
    expect(pullCredentials('busybox', secrets)).toEqual([{ username: 'hub', password: 'pw:with:colons' }]);
    expect(pullCredentials('registry.example.com/app', secrets)).toEqual([
      { username: 'u', password: 'p' },
      { username: 'old', password: 'cfg' },
    ]);
    expect(pullCredentials('quay.io/app', secrets)).toEqual([]);
  });
});
