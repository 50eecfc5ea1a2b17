// A test API server's audit log: the flags that turn it on with a policy of
// the test's own (written into the server's directory), and the events it holds.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface AuditEvent {
  auditID: string;
  level: string;
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string };
  objectRef?: { resource: string; namespace?: string; name?: string };
  responseStatus: { code: number };
  requestObject?: { metadata?: { name?: string } };
  responseObject?: { metadata?: { uid?: string } };
  annotations?: Record<string, string>;
}

/** The server flags for an audit log under `dir`, with the policy `writeAuditPolicy` put there. */
export const auditFlags = (dir: string): string[] => ['--audit-policy-file', join(dir, 'policy.yaml'), '--audit-log-path', join(dir, 'audit', 'audit.log')];

/** Writes the audit policy into a test server's directory (before it starts). */
export const writeAuditPolicy =
  (policy: string) =>
  (dir: string): Promise<void> =>
    writeFile(join(dir, 'policy.yaml'), policy);

/** The events logged so far (none before the first). */
export async function auditEvents(dir: string): Promise<AuditEvent[]> {
  const text = await readFile(join(dir, 'audit', 'audit.log'), 'utf8').catch(() => '');
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent);
}
