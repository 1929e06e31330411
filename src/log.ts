import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** JSON logs on stdout (or `destination`), one logger per app, handed down to components. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { name: 'cutover' }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
