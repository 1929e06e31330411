// Does the shadow answer the same as the primary? Status, an allow-list of headers, and the body:
// structurally when both bodies are JSON (after ignore, unordered and numeric tolerance), byte
// for byte otherwise. Only the normalisation is ours; the structural diff is microdiff's. Pure.
// microdiff: zero dependencies, ~1 kB, ESM with types, names each difference by its path (which
// fast-deep-equal and dequal, booleans only, do not); jsondiffpatch is heavier and built for patches.
import microdiff from 'microdiff';
import { buildPatterns, coveredBy, cut, step, toPointer, type PatternNode } from './pointer.js';

export interface ParityResponse {
  status: number;
  /** Header names in lower case (as node:http and undici give them). */
  headers: Readonly<Record<string, string | string[] | number | undefined>>;
  body: Buffer;
}

export interface NumericTolerance {
  /** Numbers at most this far apart are equal. */
  absolute?: number;
  /** Numbers whose difference is at most this share of the larger magnitude are equal. */
  relative?: number;
}

export interface CompareRules {
  /** Response headers compared (case-insensitive names); default ['content-type']. */
  headers?: readonly string[];
  /** JSON Pointers left out of the comparison, `*` for any array element or object key. */
  ignore?: readonly string[];
  /** Arrays compared as multisets: those at these pointers, or every array (true). */
  unordered?: readonly string[] | boolean;
  numericTolerance?: NumericTolerance;
}

export interface Difference {
  /** A JSON Pointer into the body (`/items/3/price`), `status`, `header:NAME` or `body`. */
  path: string;
  /** Each side's value as JSON text cut to ~200 bytes; absent when the side has nothing there. */
  primary?: string;
  shadow?: string;
}

export type CompareResult = { match: true } | { match: false; differences: Difference[]; /** Differences beyond the listed ones. */ more: number };

export const DEFAULT_HEADERS: readonly string[] = ['content-type'];
/** Differences listed at most: a 100 000-element array that differs everywhere is one line of news. */
export const MAX_DIFFERENCES = 20;
/** Deeper JSON is compared as bytes: the structural walk recurses, and no real API nests this far. */
export const MAX_DEPTH = 100;
/** Each value in a difference is cut to this many bytes. */
export const MAX_VALUE_BYTES = 200;

/**
 * @param noise learned noise of the endpoint: pointer patterns (`/items/*\/ts`) and header paths
 *   (`header:date`) whose differences are not mismatches
 */
export function compareResponses(primary: ParityResponse, shadow: ParityResponse, rules: CompareRules = {}, noise: readonly string[] = []): CompareResult {
  const all: Difference[] = [];
  let more = 0;
  const push = (d: Difference) => {
    if (all.length < MAX_DIFFERENCES) all.push(d);
    else more++;
  };
  if (primary.status !== shadow.status) push({ path: 'status', primary: String(primary.status), shadow: String(shadow.status) });
  const noisy = new Set(noise.filter((p) => p.startsWith('header:')));
  for (const name of rules.headers ?? DEFAULT_HEADERS) {
    const h = name.toLowerCase();
    const a = headerValue(primary.headers[h]);
    const b = headerValue(shadow.headers[h]);
    if (a !== b && !noisy.has(`header:${h}`)) push(withValues({ path: `header:${h}` }, a, b));
  }
  const body = compareBodies(primary, shadow, rules, noise.filter((p) => p.startsWith('/') || p === ''));
  for (const d of body.differences) push(d);
  more += body.more;
  return all.length === 0 ? { match: true } : { match: false, differences: all, more };
}

function headerValue(v: string | string[] | number | undefined): string | undefined {
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v.join(', ') : String(v)).trim();
}

function withValues(d: Difference, a: string | undefined, b: string | undefined): Difference {
  if (a !== undefined) d.primary = cut(a, MAX_VALUE_BYTES);
  if (b !== undefined) d.shadow = cut(b, MAX_VALUE_BYTES);
  return d;
}

const isJsonType = (ct: unknown) => typeof ct === 'string' && /^\s*(application\/([a-z0-9.+-]*\+)?json|text\/json)\s*(;|$)/i.test(ct);

function compareBodies(p: ParityResponse, s: ParityResponse, rules: CompareRules, noise: readonly string[]): { differences: Difference[]; more: number } {
  const declared = isJsonType(p.headers['content-type']) || isJsonType(s.headers['content-type']);
  const a = parseJson(p.body, declared);
  const b = a === NOT_JSON ? NOT_JSON : parseJson(s.body, declared);
  if (a === NOT_JSON || b === NOT_JSON || tooDeep(a) || tooDeep(b)) return compareBytes(p.body, s.body);
  return compareJson(a, b, rules, noise);
}

const NOT_JSON = Symbol('not JSON');

function parseJson(body: Buffer, declared: boolean): unknown {
  if (!declared) {
    // Without a JSON content type only an object or an array is taken for JSON ("123" is text).
    let i = 0;
    while (i < body.length && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09)) i++;
    if (body[i] !== 0x7b && body[i] !== 0x5b) return NOT_JSON;
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return NOT_JSON;
  }
}

/** Nesting deeper than MAX_DEPTH, found without recursion (hostile input must not blow the stack). */
function tooDeep(v: unknown): boolean {
  const stack: Array<[unknown, number]> = [[v, 0]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    if (d >= MAX_DEPTH) return true;
    for (const c of Object.values(x)) if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
  return false;
}

function compareBytes(a: Buffer, b: Buffer): { differences: Difference[]; more: number } {
  if (a.equals(b)) return { differences: [], more: 0 };
  let i = 0;
  const n = Math.min(a.length, b.length);
  while (i < n && a[i] === b[i]) i++;
  // Shown from a little before the first differing byte, where a person wants to look.
  const from = Math.max(0, i - 40);
  const show = (x: Buffer) => `${from > 0 ? '…' : ''}${x.subarray(from, from + MAX_VALUE_BYTES).toString('utf8')}`;
  return { differences: [withValues({ path: 'body' }, show(a), show(b))], more: 0 };
}

/** Placed where an ignored array element was, so that the elements after it keep their indices. */
const IGNORED = '\u0000ignored';

interface Normalised {
  value: unknown;
  /** Concrete pointers of the arrays compared as multisets. */
  unordered: Set<string>;
}

function compareJson(a: unknown, b: unknown, rules: CompareRules, noise: readonly string[]): { differences: Difference[]; more: number } {
  const all = rules.unordered === true;
  const patterns = buildPatterns([...(rules.ignore ?? []), ...noise], Array.isArray(rules.unordered) ? rules.unordered : []);
  if (patterns.drop) return { differences: [], more: 0 }; // "" ignores the whole body
  const na = normalise(a, patterns, all);
  const nb = normalise(b, patterns, all);
  // Wrapped, so that two scalar documents (or an object and an array) are compared too.
  const raw = microdiff({ v: na.value }, { v: nb.value }, { cyclesFix: false });
  const tol = rules.numericTolerance;
  const unordered = new Set([...na.unordered, ...nb.unordered]);
  const seen = new Set<string>();
  const differences: Difference[] = [];
  let more = 0;
  for (const d of raw) {
    const primary = d.type === 'CREATE' ? undefined : d.oldValue;
    const shadow = d.type === 'REMOVE' ? undefined : d.value;
    if (tol && typeof primary === 'number' && typeof shadow === 'number' && within(primary, shadow, tol)) continue;
    let path = toPointer(d.path.slice(1));
    let whole = false;
    // A difference inside a multiset names the array: its sorted indices mean nothing to a person.
    if (unordered.size > 0) {
      const at = unorderedAncestor(path, unordered);
      if (at !== undefined) [path, whole] = [at, true];
    }
    if (seen.has(path)) continue;
    seen.add(path);
    if (differences.length >= MAX_DIFFERENCES) {
      more++;
      continue;
    }
    if (whole) differences.push(withValues({ path }, show(valueAt(na.value, path)), show(valueAt(nb.value, path))));
    else differences.push(withValues({ path }, show(primary), show(shadow)));
  }
  return { differences, more };
}

function within(a: number, b: number, t: NumericTolerance): boolean {
  const d = Math.abs(a - b);
  return d <= (t.absolute ?? 0) || d <= (t.relative ?? 0) * Math.max(Math.abs(a), Math.abs(b));
}

function show(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (v === IGNORED) return '(ignored)';
  return JSON.stringify(v);
}

function unorderedAncestor(path: string, unordered: Set<string>): string | undefined {
  if (unordered.has('')) return '';
  let i = path.indexOf('/', 1);
  while (i !== -1) {
    const prefix = path.slice(0, i);
    if (unordered.has(prefix)) return prefix;
    i = path.indexOf('/', i + 1);
  }
  return unordered.has(path) ? path : undefined;
}

function valueAt(v: unknown, pointer: string): unknown {
  if (pointer === '') return v;
  let x: unknown = v;
  for (const t of pointer.slice(1).split('/')) {
    if (x === null || typeof x !== 'object') return undefined;
    x = (x as Record<string, unknown>)[t.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return x;
}

/**
 * A copy with the ignored places removed and the unordered arrays sorted by a canonical form.
 * Objects are built without a prototype, so that keys such as `constructor` or `__proto__` are
 * plain keys in the diff and cannot reach Object.prototype.
 */
function normalise(root: unknown, patterns: PatternNode, allUnordered: boolean): Normalised {
  const unordered = new Set<string>();
  const walk = (v: unknown, at: PatternNode[], path: string): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      const out = v.map((x, i) => {
        const next = at.length === 0 ? at : step(at, String(i));
        return next.some((n) => n.drop) ? IGNORED : walk(x, next, `${path}/${i}`);
      });
      if (allUnordered || at.some((n) => n.unordered)) {
        unordered.add(path);
        const keyed = out.map((x) => [canonical(x), x] as const);
        keyed.sort((p, q) => (p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : 0));
        return keyed.map((k) => k[1]);
      }
      return out;
    }
    const out: Record<string, unknown> = Object.create(null);
    for (const [k, x] of Object.entries(v)) {
      const next = at.length === 0 ? at : step(at, k);
      if (next.some((n) => n.drop)) continue;
      out[k] = walk(x, next, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    }
    return out;
  };
  return { value: walk(root, [patterns], ''), unordered };
}

/** JSON text with object keys sorted: equal values, equal text. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** Whether a concrete difference path falls under one of `patterns` (ignore, redact, noise). */
export function matchesAny(path: string, patterns: readonly string[]): boolean {
  const pointers = patterns.filter((p) => p === '' || p.startsWith('/'));
  if (pointers.includes(path)) return true;
  return (path === '' || path.startsWith('/')) && pointers.length > 0 && coveredBy(path, buildPatterns(pointers, []));
}
