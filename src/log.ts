import { pino, type Logger, type DestinationStream } from 'pino';
import { createRequire } from 'node:module';

export type { Logger };

export type LogFormat = 'pretty' | 'json';

/** pretty when stderr is a terminal (a person is watching), JSON otherwise (a collector is). */
export function defaultLogFormat(): LogFormat {
  return process.stderr.isTTY ? 'pretty' : 'json';
}

/**
 * One logger per app, handed down to components. JSON lines on stdout (or `destination`), or with
 * `format: 'pretty'` one readable line per event through pino-pretty, used as a library in this
 * thread (synchronous, no worker transport), so a line is out before the process exits.
 */
export function createLogger(level: string, destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  const options = { level, base: { name: 'cutover' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === 'pretty') {
    // Loaded only when asked for: most processes log JSON.
    const { PinoPretty } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
    const pretty = PinoPretty({ sync: true, colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name', destination: destination ?? 1 });
    return pino(options, pretty);
  }
  return pino(options, destination);
}
