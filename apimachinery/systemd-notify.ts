import { execFile } from 'node:child_process';

/**
 * Tells systemd the service is ready (Type=notify), when it runs as one:
 * through `systemd-notify`, since Node has no datagram unix sockets. The
 * units allow notifications from the service's other processes
 * (NotifyAccess=all). Nothing happens outside systemd.
 */
export function notifyReady(status: string): Promise<void> {
  if (!process.env.NOTIFY_SOCKET) return Promise.resolve();
  return new Promise((resolve) => {
    execFile('systemd-notify', ['--ready', `--pid=${process.pid}`, `--status=${status}`], (err) => {
      // a unit that waits for READY and never gets it says so itself (its start times out)
      if (err) process.stderr.write(`systemd-notify failed: ${err.message}\n`);
      resolve();
    });
  });
}
