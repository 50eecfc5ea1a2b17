import { parseArgs } from 'node:util';
import { newCertificateKey, sealSharedPki } from './control-plane-certs.ts';
import { hostSettings } from './config-file.ts';
import type { ConfigMap, Secret } from 'kubernetes-types/core/v1.js';
import { ApiError, RestClient, caCertHash, loadKubeconfig, parseDuration } from '../apimachinery/index.ts';
import {
  BOOTSTRAP_TOKEN,
  BOOTSTRAP_TOKEN_NAMESPACE,
  BOOTSTRAP_TOKEN_TYPE,
  CLUSTER_INFO,
  CONTROL_PLANE_CERTS_SECRET,
  DEFAULT_NODE_TOKEN_GROUP,
  KUBECONFIG_KEY,
  TOKEN_USAGES,
  bootstrapTokenSecret,
  newBootstrapToken,
  readBootstrapToken,
  readClusterInfoKubeconfig,
  secretName,
  tokenRefusal,
  tokenText,
  type BootstrapToken,
} from '../apimachinery/index.ts';

export const TOKEN_USAGE = `skiff token: join tokens (bootstrap tokens, as kubeadm's)

  skiff token create [--ttl 24h] [--description TEXT] [--groups G,...] [--usages signing,authentication]
                     makes a token and prints the command that joins a host with it
  skiff token create --control-plane [--pki-dir /etc/skiff/pki]
                     also uploads the cluster CA and service-account keys, encrypted, for a second server
                     to join with (the join command carries the key; they go when the token goes)
  skiff token list   the tokens, their expiry, usages and groups
  skiff token delete TOKEN|ID ...

  --kubeconfig PATH  an administrator's credentials (/etc/skiff/admin.kubeconfig)
  --ttl DURATION     how long the token works; 0: for ever (24h)
`;

const SECRETS = { resource: 'secrets', namespace: BOOTSTRAP_TOKEN_NAMESPACE };

/**
 * The join command for a token: the server and CA pin from cluster-info (the
 * address hosts reach, not this kubeconfig's); with a certificate key, a
 * second server's, sharing this server's etcd.
 */
async function joinCommand(client: RestClient, token: BootstrapToken, certificateKey?: string): Promise<string> {
  const info = await client.get<ConfigMap>({ resource: 'configmaps', ...CLUSTER_INFO });
  const { server, ca } = readClusterInfoKubeconfig(info.data?.[KUBECONFIG_KEY] ?? '');
  const common = `--server ${server} --token ${tokenText(token)} --ca-cert-hash ${await caCertHash(ca)}`;
  if (!certificateKey) return `skiff install agent ${common}`;
  const datastore = (await hostSettings())['datastore-endpoint'];
  return `skiff install server ${common} --certificate-key ${certificateKey}${typeof datastore === 'string' ? ` -- --datastore-endpoint ${datastore}` : ''}`;
}

/** Uploads the shared PKI sealed under a fresh key to kube-system/skiff-certs, owned by the token's Secret so it goes when the token goes. */
async function uploadControlPlaneCerts(client: RestClient, tokenSecret: Secret, pkiDir: string): Promise<string> {
  const certificateKey = newCertificateKey();
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: CONTROL_PLANE_CERTS_SECRET,
      namespace: BOOTSTRAP_TOKEN_NAMESPACE,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: tokenSecret.metadata?.name, uid: tokenSecret.metadata?.uid }],
    },
    type: 'Opaque',
    data: await sealSharedPki(pkiDir, certificateKey),
  };
  try {
    await client.create(SECRETS, secret);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 409)) throw err;
    // uploaded before (for another token): the new key and owner replace the old ones
    await client.update({ ...SECRETS, name: CONTROL_PLANE_CERTS_SECRET }, secret);
  }
  return certificateKey;
}

/** "23h59m" from now, as kubeadm's token list shows a TTL; <forever> for none. */
function ttlOf(t: BootstrapToken, now: number): string {
  if (!t.expiration) return '<forever>';
  const left = Math.max(0, t.expiration.getTime() - now);
  const h = Math.floor(left / 3_600_000);
  const m = Math.floor((left % 3_600_000) / 60_000);
  return h ? `${h}h${m}m` : `${m}m`;
}

export async function runToken(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      kubeconfig: { type: 'string', default: '/etc/skiff/admin.kubeconfig' },
      ttl: { type: 'string', default: '24h' },
      description: { type: 'string' },
      groups: { type: 'string', default: DEFAULT_NODE_TOKEN_GROUP },
      usages: { type: 'string', default: TOKEN_USAGES.join(',') },
      'control-plane': { type: 'boolean', default: false },
      'pki-dir': { type: 'string', default: '/etc/skiff/pki' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [verb, ...args] = positionals;
  if (values.help || !verb) {
    process.stdout.write(TOKEN_USAGE);
    return;
  }
  const client = new RestClient(await loadKubeconfig(values.kubeconfig as string), { userAgent: 'skiff-token' });
  try {
    if (verb === 'create') {
      const token = newBootstrapToken({
        ttlMs: parseDuration(values.ttl as string),
        description: values.description,
        usages: (values.usages as string).split(',').filter(Boolean),
        groups: (values.groups as string).split(',').filter(Boolean),
      });
      const refusal = tokenRefusal(token);
      if (refusal) throw new Error(refusal);
      const tokenSecret = await client.create<Secret>(SECRETS, bootstrapTokenSecret(token));
      const certificateKey = values['control-plane'] ? await uploadControlPlaneCerts(client, tokenSecret, values['pki-dir'] as string) : undefined;
      process.stdout.write(`${await joinCommand(client, token, certificateKey)}\n`);
    } else if (verb === 'list') {
      const list = await client.get<{ items: (Secret & { data?: Record<string, string> })[] }>(SECRETS, { fieldSelector: `type=${BOOTSTRAP_TOKEN_TYPE}` });
      const now = Date.now();
      const rows = [['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS']];
      for (const t of list.items.map((s) => readBootstrapToken(s)).filter((t): t is BootstrapToken => !!t)) {
        rows.push([tokenText(t), ttlOf(t, now), t.expiration?.toISOString() ?? '<never>', t.usages.join(','), t.description ?? '<none>', t.groups.join(',')]);
      }
      const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
      process.stdout.write(
        `${rows
          .map((r) =>
            r
              .map((c, i) => c.padEnd(widths[i] ?? 0))
              .join('   ')
              .trimEnd(),
          )
          .join('\n')}\n`,
      );
    } else if (verb === 'delete') {
      if (args.length === 0) throw new Error('name the tokens to delete (TOKEN or its ID)');
      for (const arg of args) {
        const id = BOOTSTRAP_TOKEN.exec(arg)?.[1] ?? (/^[a-z0-9]{6}$/.test(arg) ? arg : undefined);
        if (!id) throw new Error(`"${arg}" is not a token ([a-z0-9]{6}.[a-z0-9]{16}) or a token ID ([a-z0-9]{6})`);
        try {
          await client.delete({ ...SECRETS, name: secretName(id) });
        } catch (err) {
          if (err instanceof ApiError && err.code === 404) throw new Error(`bootstrap token "${id}" not found`);
          throw err;
        }
        process.stdout.write(`bootstrap token "${id}" deleted\n`);
      }
    } else {
      throw new Error(`unknown verb "${verb}": create, list or delete`);
    }
  } finally {
    client.close();
  }
}
