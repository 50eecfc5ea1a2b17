import type { Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { defineController, objectKey, primary, watch, type Informer, type RunnableController } from '../../apimachinery/index.ts';
import type { LegacyClaims } from '../auth/index.ts';
import { deleteExact, type Controller, type ControllerContext } from './context.ts';
import type { ResourceType } from './shared-informers.ts';

// kube-controller-manager's tokens controller: a Secret of type
// kubernetes.io/service-account-token that names a ServiceAccount
// (kubernetes.io/service-account.name) is filled with a legacy token for it,
// the cluster CA and the namespace; one whose account is gone (or is another
// account of the same name) is deleted.

const TOKEN_TYPE = 'kubernetes.io/service-account-token';
const NAME = 'kubernetes.io/service-account.name';
const UID = 'kubernetes.io/service-account.uid';
const TOKEN_SECRETS: ResourceType = { resource: 'secrets', fieldSelector: `type=${TOKEN_TYPE}` };
const ACCOUNTS: ResourceType = { resource: 'serviceaccounts' };

const b64 = (s: string) => Buffer.from(s).toString('base64');

export class LegacyTokenController implements Controller {
  readonly name = 'tokens-controller';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #secrets: Informer<Secret>;
  #accounts: Informer<ServiceAccount>;
  #issue: (c: LegacyClaims) => Promise<string>;
  #caPem: string;

  constructor(ctx: ControllerContext, o: { issue: (c: LegacyClaims) => Promise<string>; caPem: string }) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#issue = o.issue;
    this.#caPem = o.caPem;
    this.#secrets = ctx.informers.for<Secret>(TOKEN_SECRETS);
    this.#accounts = ctx.informers.for<ServiceAccount>(ACCOUNTS);
    // an account's change reaches the token Secrets that name it
    const secretsOf = (sa: ServiceAccount) =>
      this.#secrets
        .list()
        .filter((s) => s.metadata?.namespace === sa.metadata?.namespace && s.metadata?.annotations?.[NAME] === sa.metadata?.name)
        .map(objectKey);
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 1,
      backoff: { baseDelayMs: 100, maxDelayMs: 30_000 },
      watches: [primary(this.#secrets, ['add', 'update']), watch(this.#accounts, secretsOf, ['add', 'delete'])],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(key: string): Promise<void> {
    const secret = this.#secrets.get(key);
    const namespace = secret?.metadata?.namespace;
    const accountName = secret?.metadata?.annotations?.[NAME];
    if (!secret || !namespace || !accountName || secret.metadata?.deletionTimestamp) return;
    const account = this.#accounts.get(`${namespace}/${accountName}`);
    const wantedUid = secret.metadata?.annotations?.[UID];
    if (!account || (wantedUid && wantedUid !== account.metadata?.uid)) {
      await deleteExact(this.#ctx.client, { resource: 'secrets', namespace }, secret);
      return;
    }
    if (secret.data?.token && wantedUid) return;
    const token = await this.#issue({
      namespace,
      secretName: secret.metadata?.name as string,
      serviceAccountName: accountName,
      serviceAccountUid: account.metadata?.uid as string,
    });
    await this.#ctx.client.update(
      { resource: 'secrets', namespace, name: secret.metadata?.name },
      {
        ...secret,
        metadata: { ...secret.metadata, annotations: { ...secret.metadata?.annotations, [UID]: account.metadata?.uid as string } },
        data: { ...secret.data, token: b64(token), 'ca.crt': b64(this.#caPem), namespace: b64(namespace) },
      },
    );
  }
}
