// One line per control change, for logs, the demo and `cutover history`.
import type { Change } from '../state/types.js';

/** "candidate 5 % → 25 % on default (api: ramp)" */
export function describe(c: Change): string {
  const where = c.route ? ` on ${c.route}` : '';
  const why = `(${c.source}${c.reason ? `: ${c.reason}` : ''})`;
  switch (c.kind) {
    case 'split':
      return `candidate ${c.from ?? '?'} % → ${c.to} %${where} ${why}`;
    case 'shadow':
      return `shadow ${c.from ?? '?'} % → ${c.to} %${where} ${why}`;
    case 'maintenance':
      return `maintenance ${c.to ? 'on' : 'off'} ${why}`;
    case 'config':
      return `config reloaded ${why}`;
    default:
      return `${c.kind}${c.event ? ` (${c.event})` : ''}${where}: ${show(c.from)} → ${show(c.to)} ${why}`;
  }
}

/** A value in a message: never "[object Object]". */
const show = (v: unknown) => (v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v));

