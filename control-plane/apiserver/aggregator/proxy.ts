import { request } from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ApiError } from '../../../apimachinery/index.ts';
import type { UserInfo } from '../../auth/index.ts';
import type { ApiService } from '../resources/api-services.ts';
import { extensionTarget, type ExtensionClient } from './extension-client.ts';

// A request for an extension API server's group version, passed on as
// kube-aggregator passes it: authenticated and authorized here already, the
// client's own credentials withheld, who it is said in the request headers
// extension servers trust from the front-proxy client certificate
// (X-Remote-User, X-Remote-Group, X-Remote-Extra-<key>), and the answer
// streamed back as it comes (watches included).

/** headers that belong to one connection, or say who the client is to us */
const WITHHELD = /^(authorization|connection|keep-alive|proxy-.*|te|trailer|transfer-encoding|upgrade|host|impersonate-.*|x-remote-.*)$/i;

function forwardedHeaders(req: IncomingMessage, user: UserInfo): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !WITHHELD.test(name)) headers[name] = value;
  headers['x-remote-user'] = user.name;
  headers['x-remote-group'] = user.groups;
  for (const [key, values] of Object.entries(user.extra ?? {})) headers[`x-remote-extra-${encodeURIComponent(key)}`] = values;
  return headers;
}

/** Passes a request on to the extension API server of `service`; its answer, or 503 when it cannot be reached. */
export async function proxyToExtension(
  client: ExtensionClient,
  service: ApiService,
  p: { req: IncomingMessage; res: ServerResponse; user: UserInfo; pathAndQuery: string },
): Promise<void> {
  const { base, options } = await extensionTarget(client, service);
  await new Promise<void>((resolve, reject) => {
    const upstream = request({ ...options, method: p.req.method, path: p.pathAndQuery, headers: forwardedHeaders(p.req, p.user) }, (answer) => {
      const headers = Object.fromEntries(Object.entries(answer.headers).filter(([name]) => !WITHHELD.test(name)));
      p.res.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(p.res);
      answer.on('end', resolve);
      answer.on('error', reject);
    });
    // a client that goes away (a watch ended) ends the call upstream
    p.res.on('close', () => upstream.destroy());
    upstream.on('error', (err) => {
      if (p.res.headersSent) return resolve();
      reject(new ApiError('ServiceUnavailable', `error trying to reach service: ${err.message} (${base})`));
    });
    p.req.pipe(upstream);
  });
}
