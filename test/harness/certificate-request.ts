import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** A new P-256 key in `keyFile` and a certificate request for `subject` ("/O=…/CN=…") in `requestFile`, made by openssl; resolves with the request as a CSR's spec.request (base64 PEM). */
export async function certificateRequest(o: { keyFile: string; requestFile: string; subject: string }): Promise<string> {
  execFileSync(
    'openssl',
    ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', o.keyFile, '-subj', o.subject, '-out', o.requestFile],
    { stdio: 'ignore' },
  );
  return (await readFile(o.requestFile)).toString('base64');
}
