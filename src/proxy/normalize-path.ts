// The request path is normalised before it is matched against routes, and the normalised path is
// what the backend receives, so that the backend serves exactly the path that was routed.
// Without this, `/%73ecure/x`, `/cand/../secure/x` or `/x/%2e%2e/secure/x` miss a `/secure/`
// route while the backend resolves them to `/secure/x`.
//
// Syntax-based normalisation, RFC 3986 section 6.2.2:
// - percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are decoded (6.2.2.2), other
//   percent-encodings get upper-case hex digits (6.2.2.1);
// - dot segments are removed (5.2.4), their encoded forms (%2e) included since they are decoded
//   first; a path that climbs above the root (`/../x`) is refused, not clamped;
// - runs of slashes are merged (as nginx's merge_slashes does), since many servers read `//a` as `/a`.
// Refused (undefined is returned, the client gets 400):
// - an encoded slash or backslash (%2F, %5C) and a raw backslash: servers disagree on whether they
//   separate segments (nginx decodes %2F, Tomcat and Jetty refuse it, Windows servers read `\`
//   as `/`), so no single reading is safe to route on; Jetty and Tomcat refuse them by default too;
// - a malformed percent-encoding (`%` not followed by two hex digits, RFC 3986 section 2.1).

const HEX = /^[0-9A-Fa-f]{2}$/;

/** The normalised path (no query), or undefined when the path must be refused. */
export function normalizePath(path: string): string | undefined {
  // Fast path: nothing to decode, no dot segment, no double slash, no backslash.
  if (path.indexOf('%') === -1 && path.indexOf('/.') === -1 && path.indexOf('//') === -1 && path.indexOf('\\') === -1) {
    return path;
  }
  if (path.indexOf('\\') !== -1) return undefined;
  const decoded = path.indexOf('%') === -1 ? path : decodeUnreserved(path);
  if (decoded === undefined) return undefined;
  return removeDotSegments(decoded);
}

/** Decode %XX where XX is an unreserved character; upper-case the others; refuse %2F, %5C and bad escapes. */
function decodeUnreserved(path: string): string | undefined {
  let out = '';
  let from = 0;
  for (let i = path.indexOf('%'); i !== -1; i = path.indexOf('%', from)) {
    const hex = path.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return undefined;
    const code = parseInt(hex, 16);
    if (code === 0x2f || code === 0x5c) return undefined;
    out += path.slice(from, i) + (isUnreserved(code) ? String.fromCharCode(code) : `%${hex.toUpperCase()}`);
    from = i + 3;
  }
  return out + path.slice(from);
}

function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e
  );
}

/** RFC 3986 section 5.2.4 on an absolute path, with empty segments merged; undefined above the root. */
function removeDotSegments(path: string): string | undefined {
  const segments = path.split('/'); // path starts with '/', so segments[0] === ''
  const out: string[] = [];
  let trailingSlash = false;
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i];
    const last = i === segments.length - 1;
    if (s === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      trailingSlash = last;
    } else if (s === '.' || s === '') {
      trailingSlash = last;
    } else {
      out.push(s);
      trailingSlash = false;
    }
  }
  return '/' + out.join('/') + (trailingSlash && out.length > 0 ? '/' : '');
}

/**
 * The request target with its path normalised, and the path alone (for route matching);
 * undefined when the path must be refused. The query is kept as the client sent it.
 */
export function normalizeTarget(url: string): { path: string; url: string } | undefined {
  const q = url.indexOf('?');
  const raw = q === -1 ? url : url.slice(0, q);
  const path = normalizePath(raw);
  if (path === undefined) return undefined;
  return { path, url: path === raw ? url : q === -1 ? path : path + url.slice(q) };
}

export const BAD_PATH =
  'the path climbs above the root, or holds an encoded slash or backslash (%2F, %5C), a backslash or a malformed %-escape';
