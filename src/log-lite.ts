// The data plane's logger: JSON lines on stdout in pino's format (level number, ISO time, name,
// the bindings, the fields, msg), for a worker, which logs only access lines (when enabled),
// node ejections and its own start and drain. pino with its streams costs a worker ~8 MB of RSS
// and 30 ms of start-up for that; these few lines cost neither. The control plane keeps pino.
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
type Level = keyof typeof LEVELS;

export type LogFn = (fields: object, msg?: string) => void;

/** What the data plane logs through: pino's Logger satisfies it, and so does createLiteLogger. */
export interface LogSink {
  level: string;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const plain = (_k: string, v: unknown) => (v instanceof Error ? { type: v.name, message: v.message, stack: v.stack } : v);

export function createLiteLogger(level: string, bindings: Record<string, unknown> = {}, write: (line: string) => void = (l) => process.stdout.write(l)): LogSink {
  let threshold = LEVELS[level as Level] ?? LEVELS.info;
  const head = JSON.stringify({ name: 'cutover', ...bindings }).slice(1, -1);
  const at = (n: number): LogFn => (fields, msg) => {
    if (n < threshold) return;
    const body = JSON.stringify(msg === undefined ? fields : { ...fields, msg }, plain).slice(1);
    write(`{"level":${n},"time":"${new Date().toISOString()}",${head}${body === '}' ? '}' : `,${body}`}\n`);
  };
  return {
    get level() {
      return Object.keys(LEVELS).find((k) => LEVELS[k as Level] === threshold) ?? 'info';
    },
    set level(l: string) {
      threshold = LEVELS[l as Level] ?? threshold;
    },
    info: at(LEVELS.info),
    warn: at(LEVELS.warn),
    error: at(LEVELS.error),
  };
}
