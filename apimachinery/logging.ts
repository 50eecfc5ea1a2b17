import pino from 'pino';

export type Logger = pino.Logger;

/** The one root logger of a process; components take `log.child({ component })`. */
export function createRootLogger(opts: { level?: string; name: string }): Logger {
  return pino({
    name: opts.name,
    level: opts.level ?? process.env.SKIFF_LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
  });
}

/** A logger that writes nothing, for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
