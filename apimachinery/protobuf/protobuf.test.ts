import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import type { ApiError } from '../status.ts';
import { decodeProtobufObject } from './index.ts';

const fixture = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url));

/** Wraps an object's bytes in the Kubernetes envelope, as a client would. */
function envelope(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string(apiVersion);
  w.uint32((2 << 3) | 2).string(kind);
  w.ldelim();
  w.uint32((2 << 3) | 2).bytes(raw);
  return Buffer.concat([Buffer.from('k8s\0'), w.finish()]);
}

function rejection(body: Buffer): ApiError {
  try {
    decodeProtobufObject(body);
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('the body was accepted');
}

describe('protobuf request bodies', () => {
  it('decodes what kubectl create deployment sends, zero replicas kept and unset fields left out', () => {
    expect(decodeProtobufObject(fixture('kubectl-create-deployment.bin'))).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'busybox', image: 'busybox', command: ['sleep', '1000'], ports: [{ containerPort: 8080 }], resources: {} }] },
        },
        strategy: {},
      },
      status: {},
    });
  });

  it('keeps secret bytes as base64, empty values included', () => {
    const secret = decodeProtobufObject(fixture('kubectl-create-secret.bin'));
    expect(secret).toMatchObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1' }, data: { a: 'Yg==', empty: '' } });
  });

  it('turns IntOrString into a number or a string', () => {
    const pdb = decodeProtobufObject(fixture('kubectl-create-pdb.bin')) as { spec: unknown };
    expect(pdb.spec).toEqual({ minAvailable: 0, selector: { matchLabels: { app: 'web' } } });
    // ServicePort{port: 80, targetPort: IntOrString{type: 1, strVal: "http"}} in a ServiceSpec
    const port = protobuf.Writer.create()
      .uint32(3 << 3)
      .int32(80)
      .uint32((4 << 3) | 2)
      .fork()
      .uint32(1 << 3)
      .int64(1)
      .uint32((3 << 3) | 2)
      .string('http')
      .ldelim()
      .finish();
    const spec = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .bytes(port)
      .finish();
    const service = protobuf.Writer.create()
      .uint32((2 << 3) | 2)
      .bytes(spec)
      .finish();
    expect(decodeProtobufObject(envelope('v1', 'Service', service))).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      spec: { ports: [{ port: 80, targetPort: 'http' }] },
    });
  });

  it('writes times as RFC 3339 and leaves the zero time out', () => {
    // ObjectMeta{name: "x", creationTimestamp: {seconds: 1700000000}, deletionTimestamp: {}}
    const meta = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .string('x')
      .uint32((8 << 3) | 2)
      .fork()
      .uint32(1 << 3)
      .int64(1_700_000_000)
      .ldelim()
      .uint32((9 << 3) | 2)
      .fork()
      .ldelim()
      .finish();
    const ns = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .bytes(meta)
      .finish();
    expect(decodeProtobufObject(envelope('v1', 'Namespace', ns))).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'x', creationTimestamp: '2023-11-14T22:13:20Z' },
    });
  });

  it('refuses a body carrying a field it cannot read, instead of dropping it', () => {
    // a ConfigMap with field 99, which ConfigMap does not have
    const cm = protobuf.Writer.create()
      .uint32((99 << 3) | 2)
      .string('lost')
      .finish();
    const err = rejection(envelope('v1', 'ConfigMap', cm));
    expect(err.code).toBe(415);
    expect(err.message).toContain('carries fields skiff does not read');
  });

  it('refuses kinds it has no shape for with 415, and a body without the envelope with 400', () => {
    const err = rejection(envelope('apps/v1', 'StatefulSet', new Uint8Array()));
    expect(err.code).toBe(415);
    expect(err.message).toContain('StatefulSet (apps/v1)');
    expect(rejection(Buffer.from('{"kind":"Pod"}')).code).toBe(400);
  });
});
