// What every CLI command is, and the small helpers they share.
import type { ParseArgsConfig } from 'node:util';
import { adminTarget, type AdminTarget } from '../client/admin-client.js';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Command {
  summary: string;
  usage: string;
  options: Options;
  run(values: Values, positionals: string[]): Promise<number>;
}

export class UsageError extends Error {}

/** --admin and --config: where the admin API is (see adminTarget). --json: print the API's answer. */
export const adminOptions: Options = { admin: { type: 'string' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' } };

export const ADMIN_HELP = `

  --admin URL     the admin API (default: $CUTOVER_ADMIN_URL, else http://127.0.0.1:9901)
  --config FILE   find the admin API (host, port, token file) in cutover's config file
  --json          print the answer as JSON
  The admin token is read from CUTOVER_ADMIN_TOKEN, else from the config's admin.tokenFile.`;

export function targetOf(v: Values): AdminTarget {
  return adminTarget({ admin: v.admin as string | undefined, config: v.config as string | undefined });
}

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(body: unknown): void {
  out(JSON.stringify(body, null, 2));
}

export function printSplits(routes: Record<string, number>): void {
  for (const [route, p] of Object.entries(routes)) out(`${route}: candidate ${p} %`);
}

/** A change in effect but not on disk (HTTP 202): the operator must know a restart would lose it. */
export function warnNotSaved(body: unknown): void {
  const r = body as { persisted?: boolean; stateError?: string };
  if (r.persisted === false && r.stateError !== undefined) process.stderr.write(`warning: in effect but not saved: ${r.stateError}\n`);
}

export function positiveNumber(flag: string, value: unknown): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got ${JSON.stringify(value)}`);
  return n;
}
