import { parseArgs } from 'node:util';
import { supervise } from '../supervisor/index.ts';

/**
 * skiff supervise --name N --state-dir DIR -- COMMAND…: runs the command and
 * starts it again with back-off whenever it exits, until SIGTERM or SIGINT
 * (passed on to the command). `skiff up` runs the server, the agent and the
 * CSI driver this way; installed hosts leave the job to systemd.
 */
export async function runSupervise(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: 'string' }, 'state-dir': { type: 'string', default: '/run/skiff' } },
  });
  if (!values.name || positionals.length === 0) throw new Error('usage: skiff supervise --name NAME [--state-dir DIR] -- COMMAND [ARGS…]');
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());
  process.once('SIGINT', () => stop.abort());
  await supervise({ name: values.name, argv: positionals, stateDir: values['state-dir'] as string, signal: stop.signal });
}
