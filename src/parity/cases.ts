// The last sampled shadowed requests of a route, kept so that an operator can capture a replay
// set from live traffic (GET /api/v1/parity/cases → `cutover parity --cases FILE`). The tap
// only keeps references (the request's headers and the body it already copied); redaction and
// the cases-file format are applied when they are read. Pure, no I/O.
import type { IncomingHttpHeaders } from 'node:http';
import { ALWAYS_REDACTED, REDACTED } from './figures.js';
import { parsePointer } from './pointer.js';

/** One line of a cases file, as `cutover parity --cases` reads it (parity/replay.ts). */
export interface CaseLine {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  bodyBase64?: string;
}

interface Kept {
  seq: number;
  endpoint: string;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer | null;
}

/** Cases kept per route, and the largest body kept (a bigger request is not kept: a cut body would replay as another request). */
export const CASES_KEPT = 50;
export const CASE_MAX_BODY_BYTES = 64 * 1024;
/** Headers of one connection, or set by whoever sends the replay: not part of a case. */
const NOT_KEPT = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'content-length']);

export class CaseLog {
  private readonly kept: Kept[] = [];
  private seq = 0;
  private readonly redactHeaders: Set<string>;
  private readonly redactPaths: string[][];

  constructor(
    private readonly route: string,
    redact: readonly string[] = [],
    private readonly max = CASES_KEPT,
  ) {
    this.redactHeaders = new Set([...ALWAYS_REDACTED, ...redact.filter((r) => r !== '' && !r.startsWith('/')).map((h) => h.toLowerCase())]);
    this.redactPaths = redact.filter((r) => r === '' || r.startsWith('/')).map(parsePointer);
  }

  /** A sampled request was copied (per sampled request: a push of references, nothing else). */
  add(endpoint: string, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer | null): void {
    if (body !== null && body.length > CASE_MAX_BODY_BYTES) return;
    this.kept.push({ seq: ++this.seq, endpoint, method, path, headers, body });
    if (this.kept.length > this.max) this.kept.shift();
  }

  /** The last `limit` cases, oldest first, redacted. */
  lines(limit = this.max): CaseLine[] {
    return this.kept.slice(Math.max(0, this.kept.length - limit)).map((k) => this.line(k));
  }

  private line(k: Kept): CaseLine {
    const headers: Record<string, string> = {};
    for (const [name, v] of Object.entries(k.headers)) {
      if (v === undefined || NOT_KEPT.has(name)) continue;
      headers[name] = this.redactHeaders.has(name) ? REDACTED : Array.isArray(v) ? v.join(', ') : v;
    }
    const out: CaseLine = { name: `${this.route} #${k.seq}: ${k.endpoint}`, method: k.method, path: k.path, headers };
    if (k.body === null || k.body.length === 0) return out;
    const text = k.body.toString('utf8');
    // Text that survives the round trip is kept as text; anything else (binary) as base64.
    if (!Buffer.from(text, 'utf8').equals(k.body)) return { ...out, bodyBase64: k.body.toString('base64') };
    return { ...out, body: this.redactedBody(text) };
  }

  /** A JSON body with the route's redact pointers replaced; any other body as it is. */
  private redactedBody(text: string): string {
    if (this.redactPaths.length === 0) return text;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return text;
    }
    for (const p of this.redactPaths) doc = redactAt(doc, p, 0);
    return JSON.stringify(doc);
  }
}

/** `doc` with every place `tokens` names (`*`: any key or index) replaced by REDACTED. */
function redactAt(doc: unknown, tokens: readonly string[], i: number): unknown {
  if (i === tokens.length) return REDACTED;
  if (doc === null || typeof doc !== 'object') return doc;
  const t = tokens[i];
  if (Array.isArray(doc)) return doc.map((v, k) => (t === '*' || t === String(k) ? redactAt(v, tokens, i + 1) : v));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) out[k] = t === '*' || t === k ? redactAt(v, tokens, i + 1) : v;
  return out;
}

/** Cases as a cases file: JSON Lines, one request a line. */
export function toJsonLines(lines: readonly CaseLine[]): string {
  return lines.map((l) => JSON.stringify(l) + '\n').join('');
}
