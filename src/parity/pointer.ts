// JSON Pointers (RFC 6901) for parity: what a difference is named by, and the patterns of
// compare.ignore, compare.unordered, redact and learned noise, where `*` stands for any array
// element or object key (so a literal key "*" cannot be singled out). Pure.

/** `["items", 3, "a/b"]` → `/items/3/a~1b` (RFC 6901 section 3: `~` is `~0`, `/` is `~1`). */
export function toPointer(tokens: readonly (string | number)[]): string {
  let out = '';
  for (const t of tokens) out += '/' + String(t).replace(/~/g, '~0').replace(/\//g, '~1');
  return out;
}

/** `/items/3/a~1b` → `["items", "3", "a/b"]`; `''` (the whole document) → `[]`. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`a JSON Pointer starts with "/", got ${JSON.stringify(pointer.slice(0, 80))}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Array indices (all-digit tokens) as `*`: `/items/3/ts` → `/items/*\/ts`, so that what is learned
 * or counted on one element covers every element. An object key made of digits becomes `*` too:
 * a pointer does not say which of the two it was.
 */
export function templateOf(path: string): string {
  if (!path.startsWith('/')) return path; // status, header:..., body
  return path.replace(/\/\d+(?=\/|$)/g, '/*');
}

/** A trie of pointer patterns; each node says what applies at that place in the document. */
export interface PatternNode {
  children: Map<string, PatternNode>;
  /** Left out of the comparison (ignore, noise). */
  drop: boolean;
  /** An array here is compared as a multiset. */
  unordered: boolean;
}

const node = (): PatternNode => ({ children: new Map(), drop: false, unordered: false });

export function buildPatterns(drop: readonly string[], unordered: readonly string[]): PatternNode {
  const root = node();
  const add = (p: string, flag: 'drop' | 'unordered') => {
    let n = root;
    for (const t of parsePointer(p)) {
      let c = n.children.get(t);
      if (!c) n.children.set(t, (c = node()));
      n = c;
    }
    n[flag] = true;
  };
  for (const p of drop) add(p, 'drop');
  for (const p of unordered) add(p, 'unordered');
  return root;
}

/** The pattern nodes that a child `key` of the places `at` reaches (exact key and `*`). */
export function step(at: readonly PatternNode[], key: string): PatternNode[] {
  const out: PatternNode[] = [];
  for (const n of at) {
    const exact = n.children.get(key);
    if (exact) out.push(exact);
    if (key !== '*') {
      const any = n.children.get('*');
      if (any) out.push(any);
    }
  }
  return out;
}

/** Whether `path` (a concrete pointer) is at or under one of the patterns. */
export function coveredBy(path: string, patterns: PatternNode): boolean {
  if (!path.startsWith('/') && path !== '') return false;
  let at: PatternNode[] = [patterns];
  if (patterns.drop) return true;
  for (const t of parsePointer(path)) {
    at = step(at, t);
    if (at.length === 0) return false;
    if (at.some((n) => n.drop)) return true;
  }
  return false;
}

/**
 * A value as text for a person, cut to `maxBytes` of UTF-8 (on a character boundary) with `…`
 * after it: samples and messages never carry a whole 10 MB field.
 */
export function cut(text: string, maxBytes = 200): string {
  if (text.length <= maxBytes / 3 || Buffer.byteLength(text) <= maxBytes) return text;
  let bytes = 0;
  let i = 0;
  for (const ch of text) {
    const b = Buffer.byteLength(ch);
    if (bytes + b > maxBytes) break;
    bytes += b;
    i += ch.length;
  }
  return `${text.slice(0, i)}…`;
}
