// types only: grpc-js itself comes with the client passed in, so the barrel costs the API server nothing
import type * as grpc from '@grpc/grpc-js';

type Unary = (req: object, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

/**
 * One unary call by method name on a client made from a loaded proto, with a
 * deadline; a failure becomes the caller's own error type (CriError, CsiError).
 */
export function unaryCall<T>(
  client: grpc.Client,
  method: string,
  req: object,
  timeoutMs: number,
  toError: (method: string, code: grpc.status, details: string) => Error,
): Promise<T> {
  const fn = (client as unknown as Record<string, Unary>)[method];
  if (!fn) throw new Error(`gRPC client has no method ${method}`);
  return new Promise((resolve, reject) => {
    fn.call(client, req, { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) reject(toError(method, err.code, err.details || err.message));
      else resolve(res as T);
    });
  });
}
