import type { Secret } from 'kubernetes-types/core/v1.js';
import { registryHost } from '../../apimachinery/index.ts';
import type { AuthConfig } from '../cri/index.ts';

// Registry credentials from a pod's imagePullSecrets, as the kubelet's
// keyring reads them: kubernetes.io/dockerconfigjson (.dockerconfigjson,
// {"auths": {...}}) and the older kubernetes.io/dockercfg (.dockercfg, the
// map alone). An entry applies to an image when it names the image's registry.

interface DockerConfigEntry {
  username?: string;
  password?: string;
  auth?: string;
}

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['index.docker.io', 'registry-1.docker.io', DOCKER_HUB]);

/** The registry an image reference pulls from: the host it names, else Docker Hub. */
export function registryOf(image: string): string {
  return registryHost(image) ?? DOCKER_HUB;
}

/** A config key as a registry host: scheme and path dropped, Docker Hub's names made one. */
function keyHost(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//, '').split('/')[0] ?? '';
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

function entriesOf(secret: Secret): Record<string, DockerConfigEntry> {
  const data = secret.data ?? {};
  const decode = (b64: string) => JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as unknown;
  try {
    if (secret.type === 'kubernetes.io/dockerconfigjson' && data['.dockerconfigjson'])
      return (decode(data['.dockerconfigjson']) as { auths?: Record<string, DockerConfigEntry> }).auths ?? {};
    if (secret.type === 'kubernetes.io/dockercfg' && data['.dockercfg']) return decode(data['.dockercfg']) as Record<string, DockerConfigEntry>;
  } catch {
    // a secret that does not parse gives no credentials
  }
  return {};
}

/** The credentials to try, in the secrets' order, for pulling `image`. */
export function pullCredentials(image: string, secrets: Secret[]): AuthConfig[] {
  const registry = registryOf(image);
  const out: AuthConfig[] = [];
  for (const secret of secrets) {
    for (const [key, entry] of Object.entries(entriesOf(secret))) {
      if (keyHost(key) !== registry) continue;
      let { username = '', password = '' } = entry;
      if ((!username || !password) && entry.auth) {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) [username, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
      }
      // no serverAddress: containerd would then hold the credentials back from the local mirror every name resolves to
      if (username || password) out.push({ username, password });
    }
  }
  return out;
}
