import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, issueCert } from '../../apimachinery/index.ts';
import { waitFor } from '../../lab/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';

// A CustomResourceDefinition whose two versions convert through a webhook,
// through the real kubectl: v1 (stored) keeps the colour at spec.color, v2 at
// spec.paint.color. The webhook is a loopback HTTPS server of the test's own
// that kube-apiserver's ConversionReview reaches through the definition's
// url and caBundle.

const api = useTestApiServer('sk-conv-', ['--disable-scheduler', '--disable-controllers']);
let webhook: Server;
let port = 0;
let caBundle = '';
/** the ConversionReview requests the webhook answered: [from apiVersions, to] */
const reviews: { from: string[]; to: string }[] = [];

type Widget = { apiVersion: string; metadata: object; spec?: { color?: string; paint?: { color?: string } } };

/** v1 <-> v2 for one object. */
function convert(o: Widget, to: string): Widget {
  if (o.apiVersion === to) return o;
  if (to.endsWith('/v2')) return { ...o, apiVersion: to, spec: { paint: { color: o.spec?.color } } };
  return { ...o, apiVersion: to, spec: { color: o.spec?.paint?.color } };
}

beforeAll(async () => {
  const ca = await createCA('conversion-webhook-ca');
  const serving = await issueCert(ca, { commonName: 'conversion-webhook', ipAddresses: ['127.0.0.1'], usage: 'server' });
  caBundle = Buffer.from(ca.cert).toString('base64');
  webhook = createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString()) as { request: { uid: string; desiredAPIVersion: string; objects: Widget[] } };
      const { uid, desiredAPIVersion, objects } = review.request;
      reviews.push({ from: objects.map((o) => o.apiVersion), to: desiredAPIVersion });
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'ConversionReview',
          response: { uid, result: { status: 'Success' }, convertedObjects: objects.map((o) => convert(o, desiredAPIVersion)) },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', () => resolve()));
  port = (webhook.address() as AddressInfo).port;
});

/** Closes the webhook and the connections the API server keeps open to it. */
async function stopWebhook(): Promise<void> {
  const closed = new Promise<void>((resolve) => webhook.close(() => resolve()));
  webhook.closeAllConnections();
  await closed;
}

afterAll(async () => {
  if (webhook.listening) await stopWebhook();
});

const definition = (strategy: string, storage: 'v1' | 'v2' = 'v1') => `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.convert.skiff.dev}
spec:
  group: convert.skiff.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  conversion:
    strategy: Webhook
    webhook:
      conversionReviewVersions: [v1]
      clientConfig: ${strategy}
  versions:
  - name: v1
    served: true
    storage: ${storage === 'v1'}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {color: {type: string}}}
  - name: v2
    served: true
    storage: ${storage === 'v2'}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {paint: {type: object, properties: {color: {type: string}}}}}
`;

describe('custom resources converted by a webhook', () => {
  it('refuses a definition whose webhook has nowhere to call', async () => {
    const refused = await api.kubectlResult(['apply', '-f', '-'], definition('{}'));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('spec.conversion.webhook.clientConfig: Required value: exactly one of url or service is required');
  });

  it('serves each version through the webhook: written in v2, stored in v1, read back in either', async () => {
    expect((await api.kubectlResult(['apply', '-f', '-'], definition(`{url: "https://127.0.0.1:${port}/convert", caBundle: ${caBundle}}`))).code).toBe(0);
    await api.kubectl('wait', '--for=condition=established', 'crd/widgets.convert.skiff.dev', '--timeout=30s');
    const created = await api.kubectlResult(
      ['apply', '-f', '-'],
      'apiVersion: convert.skiff.dev/v2\nkind: Widget\nmetadata: {name: w1, labels: {shade: dark}}\nspec: {paint: {color: red}}\n',
    );
    expect(created.stdout).toContain('widget.convert.skiff.dev/w1 created');
    // the webhook turned the v2 object into v1 to store it
    expect(reviews).toContainEqual({ from: ['convert.skiff.dev/v2'], to: 'convert.skiff.dev/v1' });
    const v1 = JSON.parse(await api.kubectl('get', 'widgets.v1.convert.skiff.dev', 'w1', '-o', 'json')) as Widget & {
      metadata: { labels: object; uid: string };
    };
    expect(v1).toMatchObject({ apiVersion: 'convert.skiff.dev/v1', spec: { color: 'red' }, metadata: { labels: { shade: 'dark' } } });
    const v2 = JSON.parse(await api.kubectl('get', 'widgets.v2.convert.skiff.dev', 'w1', '-o', 'json')) as Widget & { metadata: { uid: string } };
    expect(v2).toMatchObject({ apiVersion: 'convert.skiff.dev/v2', spec: { paint: { color: 'red' } } });
    expect(v2.metadata.uid).toBe(v1.metadata.uid);
    // a list in v2 converts every stored object
    expect(await api.kubectl('get', 'widgets.v2.convert.skiff.dev', '-o', 'jsonpath={.items[*].spec.paint.color}')).toBe('red');
    // a change through v1 shows in v2
    await api.kubectl('patch', 'widgets.v1.convert.skiff.dev', 'w1', '--type=merge', '-p', '{"spec":{"color":"blue"}}');
    expect(await api.kubectl('get', 'widgets.v2.convert.skiff.dev', 'w1', '-o', 'jsonpath={.spec.paint.color}')).toBe('blue');
  });

  it('answers 500 naming the webhook while it cannot be reached, and serves the storage version all the while', async () => {
    await stopWebhook();
    const failed = await api.kubectlResult(['get', 'widgets.v2.convert.skiff.dev', 'w1']);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('conversion webhook for convert.skiff.dev/v2, Kind=Widget failed');
    expect(await api.kubectl('get', 'widgets.v1.convert.skiff.dev', 'w1', '-o', 'jsonpath={.spec.color}')).toBe('blue');
    // back again, so afterAll can close it
    await new Promise<void>((resolve) => webhook.listen(port, '127.0.0.1', () => resolve()));
    expect(await api.kubectl('get', 'widgets.v2.convert.skiff.dev', 'w1', '-o', 'jsonpath={.spec.paint.color}')).toBe('blue');
  });

  it('[sig-api-machinery] CustomResourceConversionWebhook [Privileged:ClusterAdmin] should be able to convert a non homogeneous list of CRs [Conformance]', async () => {
    // w1 is stored in v1; with v2 the storage version from now on, w2 is stored in v2
    const clientConfig = `{url: "https://127.0.0.1:${port}/convert", caBundle: ${caBundle}}`;
    expect((await api.kubectlResult(['apply', '-f', '-'], definition(clientConfig, 'v2'))).code).toBe(0);
    // served again under the new storage version once the definition's change has been taken
    await waitFor(
      'v2 among the stored versions',
      async () => (await api.kubectl('get', 'crd', 'widgets.convert.skiff.dev', '-o', 'jsonpath={.status.storedVersions}')).includes('v2'),
      30_000,
    );
    const created = await api.kubectlResult(
      ['create', '-f', '-'],
      'apiVersion: convert.skiff.dev/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {color: green}\n',
    );
    expect(created.code, created.stderr).toBe(0);
    const list = async (version: string) =>
      (JSON.parse(await api.kubectl('get', `widgets.${version}.convert.skiff.dev`, '-o', 'json')) as { items: Widget[] }).items;
    // both lists hold every object in the version asked for, whatever version each is stored in
    expect(await list('v1')).toMatchObject([
      { apiVersion: 'convert.skiff.dev/v1', spec: { color: 'blue' } },
      { apiVersion: 'convert.skiff.dev/v1', spec: { color: 'green' } },
    ]);
    expect(await list('v2')).toMatchObject([
      { apiVersion: 'convert.skiff.dev/v2', spec: { paint: { color: 'blue' } } },
      { apiVersion: 'convert.skiff.dev/v2', spec: { paint: { color: 'green' } } },
    ]);
    expect(await api.kubectl('get', 'widgets.v2.convert.skiff.dev', 'w1', '-o', 'jsonpath={.spec.paint.color}')).toBe('blue');
  });
});
