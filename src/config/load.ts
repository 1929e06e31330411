// Load, default and validate a config. Every problem names the field path and the rule,
// e.g. `routes[1].candidatePercent: must be <= 100, got 150`.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError } from '../errors.js';
import { checkClient, rampProblems, serverProblem } from './checks.js';
import { ConfigSchema, type Config } from './schema.js';

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file it came from. */
  file: string;
}

/**
 * The largest config file read (bytes). A real config is a few kB; a file of many MB is a mistake
 * (or an attack on the admin reload), and parsing it would cost gigabytes of memory.
 */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** A quoted value in an error message is cut to this many characters. */
const MAX_SHOWN = 80;

/** Read and validate a YAML config file. Throws ConfigError listing every problem. */
export function loadConfigFile(path: string, opts: { extraChecks?: ExtraChecks } = {}): LoadedConfig {
  const file = resolve(path);
  let text: string;
  try {
    const { size } = statSync(file);
    if (size > MAX_CONFIG_BYTES) {
      throw new ConfigError(file, [`config file is ${(size / 1024 / 1024).toFixed(1)} MB; the limit is ${MAX_CONFIG_BYTES / 1024 / 1024} MB`]);
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line})` : '';
    throw new ConfigError(file, [`not valid YAML${where}: ${truncate((err as Error).message.split('\n')[0])}`]);
  }
  return { config: parseConfig(raw, file, opts.extraChecks && ((c) => opts.extraChecks!(c, file))), file };
}

/** Checks of a caller's own (what `start` would refuse), listed with the schema's problems. */
export type ExtraChecks = (c: Config, file: string) => string[];

/** Validate a plain object; returns a new object with defaults filled in. Never writes into `raw`. */
export function parseConfig(raw: unknown, source = 'config', extraChecks?: (c: Config) => string[]): Config {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, ['(root): must be a mapping with listen, backends and routes']);
  }
  const withDefaults = Value.Default(ConfigSchema, Value.Clone(raw));
  const issues = schemaIssues(withDefaults);
  // Every problem in one pass: the semantic checks run on a file the schema refused too, as far
  // as its shape lets them (a check that meets a part too broken to read is skipped).
  issues.push(...semanticIssues(withDefaults as Config).filter((i) => !issues.includes(i)));
  if (extraChecks) {
    try {
      issues.push(...extraChecks(withDefaults as Config));
    } catch {
      // a part too broken to check: the schema's problems say why
    }
  }
  if (issues.length > 0) throw new ConfigError(source, issues);
  return withDefaults as Config;
}

/** Problems listed at most; a generated file can have one per route, and nobody reads 10000 lines. */
const MAX_ISSUES = 50;

function schemaIssues(value: unknown): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of Value.Errors(ConfigSchema, value)) {
    if (out.length === MAX_ISSUES) {
      out.push('… and more problems (only the first 50 are listed)');
      break;
    }
    const line = `${fieldPath(e.path)}: ${rule(e)}`;
    // A union reports every branch; the first message per path is the useful one.
    const key = e.path;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(line);
  }
  return out;
}

/** `/routes/1/candidatePercent` → `routes[1].candidatePercent` */
export function fieldPath(pointer: string): string {
  if (pointer === '') return '(root)';
  let out = '';
  for (const part of pointer.slice(1).split('/')) {
    const key = truncate(part.replace(/~1/g, '/').replace(/~0/g, '~'));
    out += /^\d+$/.test(key) ? `[${key}]` : out === '' ? key : `.${key}`;
  }
  return out;
}

/** A value quoted in an error message, cut short: a 50 MB string must not be echoed whole. */
function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(truncate(v));
  if (typeof v === 'number') return String(v); // NaN and Infinity, which JSON would print as null
  if (v === undefined) return 'nothing';
  return truncate(JSON.stringify(v) ?? String(v));
}

function truncate(s: string): string {
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s;
}

function rule(e: ValueError): string {
  const s = e.schema as Record<string, unknown>;
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.ObjectAdditionalProperties:
      return `unknown key (allowed: ${Object.keys((s.properties ?? {}) as object).join(', ')})`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `must be <= ${s.maximum}, got ${show(e.value)}`;
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `must be >= ${s.minimum}, got ${show(e.value)}`;
    case ValueErrorType.Number:
      return `must be a number, got ${show(e.value)}`;
    case ValueErrorType.Integer:
      return `must be a whole number, got ${show(e.value)}`;
    case ValueErrorType.String:
      return `must be a string, got ${show(e.value)}`;
    case ValueErrorType.Boolean:
      return `must be true or false, got ${show(e.value)}`;
    case ValueErrorType.Object:
      return `must be a mapping, got ${show(e.value)}`;
    case ValueErrorType.Array:
      return `must be a list, got ${show(e.value)}`;
    case ValueErrorType.ArrayMinItems:
      return `must have at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}`;
    case ValueErrorType.ArrayMaxItems:
      return `must have at most ${s.maxItems} items, got ${(e.value as unknown[]).length}`;
    case ValueErrorType.StringPattern:
      return `must match ${s.pattern}${s.description ? ` (${s.description})` : ''}, got ${show(e.value)}`;
    case ValueErrorType.StringMinLength:
      return `must not be empty`;
    case ValueErrorType.Union: {
      const options = ((s.anyOf ?? []) as Array<Record<string, unknown>>).map((o) =>
        'const' in o ? show(o.const) : String(o.description ?? o.type),
      );
      return `must be one of: ${options.join(', ')}; got ${show(e.value)}`;
    }
    default:
      return `${e.message.toLowerCase()}, got ${show(e.value)}`;
  }
}

/**
 * Rules the schema cannot say: URLs, unique names, one sticky source, ramps, ... Each check runs
 * on its own: on a file the schema refused, a check that meets a part too broken to read is
 * skipped (that part's problem is listed already) and the others still run.
 */
function semanticIssues(c: Config): string[] {
  const out: string[] = [];
  const check = (f: () => void) => {
    try {
      f();
    } catch {
      // unreadable part: the schema's problem for it is listed
    }
  };
  for (const name of ['legacy', 'candidate'] as const) {
    check(() =>
      c.backends[name].upstreams.forEach((u, i) => {
        const problem = typeof u === 'string' ? upstreamProblem(u) : undefined;
        if (problem) out.push(`backends.${name}.upstreams[${i}]: ${problem}, got ${show(u)}`);
      }),
    );
  }
  check(() =>
    c.dns?.servers.forEach((s, i) => {
      const problem = typeof s === 'string' ? serverProblem(s) : undefined;
      if (problem) out.push(`dns.servers[${i}]: ${problem}, got ${show(s)}`);
    }),
  );
  check(() =>
    c.guard.webhooks.forEach((u, i) => {
      if (typeof u === 'string' && (!/^https?:\/\/[^/]/.test(u) || !URL.canParse(u))) out.push(`guard.webhooks[${i}]: must be an http:// or https:// URL, got ${show(u)}`);
    }),
  );
  check(() =>
    c.overrideAuth?.clients?.forEach((entry, i) => {
      const problem = typeof entry === 'string' ? checkClient(entry) : undefined;
      if (problem) out.push(`overrideAuth.clients[${i}]: ${problem}`);
    }),
  );
  if (c.overrideAuth !== undefined && c.overrideHeader === false) {
    out.push('overrideAuth: only applies when overrideHeader names a header (it is false)');
  }
  const names = new Map<string, number>();
  check(() =>
    c.routes.forEach((r, i) =>
      check(() => {
        const first = names.get(r.name);
        if (first !== undefined) out.push(`routes[${i}].name: must be unique, ${show(r.name)} is already routes[${first}].name`);
        else names.set(r.name, i);
        if (r.sticky && (r.sticky.header === undefined) === (r.sticky.cookie === undefined)) {
          out.push(`routes[${i}].sticky: must set exactly one of header or cookie`);
        }
        if (r.ramp) out.push(...rampProblems(r.ramp, `routes[${i}].ramp`));
      }),
    ),
  );
  return out;
}

function upstreamProblem(u: string): string | undefined {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    return 'must be an absolute URL like http://10.0.0.5:8080';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http:// or https://';
  if (url.pathname !== '/' || url.search || url.hash) return 'must be an origin only (no path, query or fragment)';
  if (url.username || url.password) return 'must not carry credentials';
  return undefined;
}
