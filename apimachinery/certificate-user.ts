import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** Who a verified client certificate names: CN the user, O the groups. */
export interface CertificateUser {
  name: string;
  groups: string[];
}

/**
 * The user each connection's client certificate names, read once per
 * connection: the certificate cannot change on it (the servers turn TLS
 * renegotiation off), and reading it cost ~9 % of the API server's CPU when
 * done for every request of a keep-alive client.
 */
const connectionUsers = new WeakMap<TLSSocket, CertificateUser | null>();

/** The user a client certificate the TLS layer verified against the cluster CA names; null without one. */
export function certificateUser(req: IncomingMessage): CertificateUser | null {
  const socket = req.socket as TLSSocket;
  if (!socket.authorized) return null;
  let user = connectionUsers.get(socket);
  if (user === undefined) {
    const cert = socket.getPeerCertificate();
    const o = cert?.subject?.O as string | string[] | undefined;
    user = cert?.subject ? { name: String(cert.subject.CN ?? ''), groups: o === undefined ? [] : Array.isArray(o) ? o : [o] } : null;
    connectionUsers.set(socket, user);
  }
  return user;
}
