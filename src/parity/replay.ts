// Replay (`cutover parity`): send each recorded case to a legacy node and a candidate node, and
// compare the answers with the route's compare rules. The I/O around the pure compareResponses.
import { Agent, request } from 'undici';
import type { Config, RouteConfig } from '../config/schema.js';
import { compileRoute, matchRoute, type CompiledRoute, type RouteSplit } from '../split/route.js';
import type { RouteSeries } from '../stats/store.js';
import { compareResponses, type CompareRules, type Difference, type ParityResponse } from './compare.js';

/** One line of a cases file. */
export interface ParityCase {
  /** 1-based line in the cases file. */
  line: number;
  name?: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** A cases file that cannot be replayed as written: the command exits 2. */
export class InputError extends Error {}

/** Each response body is read up to this; past it the case is an error (not a silent cut). */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

const METHOD = /^[A-Z]+$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const FIELDS = new Set(['name', 'method', 'path', 'headers', 'body', 'bodyBase64']);
/** A path as a request line carries it: no spaces or control characters. */
const PATH = /^\/[^\s\x00-\x1f\x7f]*$/;
/** Headers of one connection, not of the request (and content-length, which follows the body): left out of the replay. */
const NOT_REPLAYED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'content-length']);

/** Parse a JSON Lines cases file. Blank lines are ignored; any bad line throws InputError naming it and the field. */
export function parseCases(text: string, file: string): ParityCase[] {
  const cases: ParityCase[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const at = `${file} line ${i + 1}`;
    const bad = (field: string, rule: string): never => {
      throw new InputError(`${at}: ${field}: ${rule}`);
    };
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (err) {
      throw new InputError(`${at}: not valid JSON: ${(err as Error).message}`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InputError(`${at}: must be a JSON object with at least "path"`);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!FIELDS.has(k)) bad(k, `unknown field (known: ${[...FIELDS].join(', ')})`);
    if (o.name !== undefined && typeof o.name !== 'string') bad('name', 'must be a string');
    const method = o.method ?? 'GET';
    if (typeof method !== 'string' || !METHOD.test(method)) bad('method', 'must be an upper-case HTTP method, e.g. GET');
    if (typeof o.path !== 'string' || !o.path.startsWith('/')) bad('path', 'must be a string starting with /');
    if (!PATH.test(o.path as string)) bad('path', 'must not contain spaces or control characters (percent-encode them)');
    const headers: Record<string, string> = {};
    if (o.headers !== undefined) {
      if (o.headers === null || typeof o.headers !== 'object' || Array.isArray(o.headers)) bad('headers', 'must be an object of strings');
      for (const [k, hv] of Object.entries(o.headers as Record<string, unknown>)) {
        if (!HEADER_NAME.test(k)) bad(`headers.${k}`, 'is not a valid header name');
        if (typeof hv !== 'string') bad(`headers.${k}`, 'must be a string');
        if (!NOT_REPLAYED.has(k.toLowerCase())) headers[k.toLowerCase()] = hv as string;
      }
    }
    if (o.body !== undefined && o.bodyBase64 !== undefined) bad('body', 'give body or bodyBase64, not both');
    let body: Buffer | undefined;
    if (o.body !== undefined) {
      if (typeof o.body !== 'string') bad('body', 'must be a string (bodyBase64 for binary bodies)');
      body = Buffer.from(o.body as string, 'utf8');
    }
    if (o.bodyBase64 !== undefined) {
      if (typeof o.bodyBase64 !== 'string' || o.bodyBase64.length % 4 !== 0 || !BASE64.test(o.bodyBase64)) bad('bodyBase64', 'must be a base64 string');
      body = Buffer.from(o.bodyBase64 as string, 'base64');
    }
    cases.push({ line: i + 1, name: o.name as string | undefined, method: method as string, path: o.path as string, headers, body });
  }
  return cases;
}

export type Outcome = 'matched' | 'mismatched' | 'error';

export interface CaseResult {
  case: ParityCase;
  /** The route whose compare rules applied; undefined when none matched (default rules). */
  route?: string;
  outcome: Outcome;
  legacyStatus?: number;
  candidateStatus?: number;
  differences: Difference[];
  /** Differences beyond the listed ones. */
  more: number;
  /** Why the case could not be compared (a backend refused, timed out, sent too big a body). */
  error?: string;
}

export interface ReplaySummary {
  cases: number;
  matched: number;
  mismatched: number;
  errors: number;
  results: CaseResult[];
}

export interface ReplayOptions {
  /** Use this route's rules for every case; otherwise each case's route is matched like the proxy does. */
  route?: string;
  concurrency?: number;
  maxBodyBytes?: number;
}

/** The route list as the proxy matches it (only the match part of a compiled route is used here). */
function compiledRoutes(config: Config): CompiledRoute[] {
  const unusedSplit = undefined as unknown as RouteSplit;
  const unusedSeries = undefined as unknown as RouteSeries;
  return config.routes.map((r) => compileRoute(r, unusedSplit, unusedSeries));
}

export function routeByName(config: Config, name: string): RouteConfig {
  const r = config.routes.find((x) => x.name === name);
  if (!r) throw new InputError(`--route ${name}: no such route in the config (routes: ${config.routes.map((x) => x.name).join(', ')})`);
  return r;
}

function rulesOf(r: RouteConfig | undefined): CompareRules {
  return r?.shadow?.compare ?? {};
}

/** Send every case to the first legacy node and the first candidate node; compare the answers. */
export async function replay(config: Config, cases: readonly ParityCase[], opts: ReplayOptions = {}): Promise<ReplaySummary> {
  const fixed = opts.route !== undefined ? routeByName(config, opts.route) : undefined;
  const compiled = compiledRoutes(config);
  const byName = new Map(config.routes.map((r) => [r.name, r]));
  const maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const sides = (['legacy', 'candidate'] as const).map((name) => {
    const b = config.backends[name];
    return {
      name,
      origin: b.upstreams[0],
      responseMs: b.timeouts.responseMs,
      agent: new Agent({ connect: { timeout: b.timeouts.connectMs }, headersTimeout: b.timeouts.responseMs, bodyTimeout: b.timeouts.responseMs }),
    };
  });
  const results: CaseResult[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i];
      const route = fixed ?? byName.get(matchRoute(compiled, c.method, c.path, c.headers)?.name ?? '');
      const answers = await Promise.allSettled(sides.map((s) => send(s.origin, s.agent, s.responseMs, c, maxBody)));
      const base = { case: c, route: route?.name, differences: [], more: 0 };
      const failed = answers.flatMap((a, k) => (a.status === 'rejected' ? [`${sides[k].name}: ${reason(a.reason, sides[k].responseMs)}`] : []));
      const [legacy, candidate] = answers.map((a) => (a.status === 'fulfilled' ? a.value : undefined));
      if (failed.length > 0 || !legacy || !candidate) {
        results[i] = { ...base, outcome: 'error', legacyStatus: legacy?.status, candidateStatus: candidate?.status, error: failed.join('; ') };
        continue;
      }
      const r = compareResponses(legacy, candidate, rulesOf(route));
      results[i] = r.match
        ? { ...base, outcome: 'matched', legacyStatus: legacy.status, candidateStatus: candidate.status }
        : { ...base, outcome: 'mismatched', legacyStatus: legacy.status, candidateStatus: candidate.status, differences: r.differences, more: r.more };
    }
  };
  try {
    const n = Math.max(1, Math.min(opts.concurrency ?? 8, cases.length));
    await Promise.all(Array.from({ length: n }, worker));
  } finally {
    await Promise.all(sides.map((s) => s.agent.close()));
  }
  const count = (o: Outcome) => results.filter((r) => r.outcome === o).length;
  return { cases: results.length, matched: count('matched'), mismatched: count('mismatched'), errors: count('error'), results };
}

class BodyTooBig extends Error {}

async function send(origin: string, agent: Agent, responseMs: number, c: ParityCase, maxBody: number): Promise<ParityResponse> {
  // Concatenated, not resolved: a path such as //other.example/x stays a path on this node.
  const res = await request(new URL(origin).origin + c.path, {
    method: c.method as 'GET',
    headers: c.headers,
    body: c.body,
    dispatcher: agent,
    // The whole exchange, headers and body, within the backend's responseMs.
    signal: AbortSignal.timeout(responseMs),
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > maxBody) {
      res.body.destroy();
      throw new BodyTooBig(`response body over ${maxBody} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return { status: res.statusCode, headers: res.headers as ParityResponse['headers'], body: Buffer.concat(chunks) };
}

/** A transport failure in words: the code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT) and what it means. */
function reason(err: unknown, responseMs: number): string {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  if (e instanceof BodyTooBig) return e.message;
  if (code === 'ECONNREFUSED') return `connection refused (${code})`;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || e.name === 'TimeoutError') return `timed out after ${responseMs} ms (${code ?? e.name})`;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return `connect timed out (${code})`;
  const msg = e.message ?? e.cause?.message ?? String(err);
  return code ? `${msg} (${code})` : msg;
}
