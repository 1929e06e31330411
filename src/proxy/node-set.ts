// The nodes of a discovered cluster, decided without I/O: from what each upstream name resolved
// to (or failed to), the node set to serve with and what changed. The rule that matters: an
// upstream whose lookup failed or came back empty keeps its last known addresses, so a DNS
// outage never empties a cluster (it degrades it). The resolver (./resolver.ts) does the I/O,
// the discovery loop (./discovery.ts) applies the result to the cluster.
import { isIP } from 'node:net';

/** One node as discovery names it: where to connect, and where it came from. */
export interface NodeSpec {
  /** The pool's origin, e.g. http://10.0.0.5:8080 or http://[fd00::5]:8080; the node's identity. */
  readonly origin: string;
  /** The IP address (or, for a name not resolved yet, the name itself, which the connection then resolves). */
  readonly address: string;
  /** The configured upstream it came from, e.g. http://legacy-headless:8080. */
  readonly upstream: string;
  /** static: listed as is (an IP literal, or discovery off); dns: one address of a name. */
  readonly source: 'static' | 'dns';
}

/** What one lookup of one upstream's name gave: its addresses, or why there are none. */
export type Answer = { upstream: string; addresses: readonly string[] } | { upstream: string; error: string };

export interface NodeSetDiff {
  added: string[];
  removed: string[];
  kept: string[];
}

/** Origins in `next` and not in `current` (added), the reverse (removed), and those in both. */
export function diffNodeSets(current: readonly string[], next: readonly string[]): NodeSetDiff {
  const before = new Set(current);
  const after = new Set(next);
  return {
    added: next.filter((o, i) => !before.has(o) && next.indexOf(o) === i),
    removed: current.filter((o, i) => !after.has(o) && current.indexOf(o) === i),
    kept: next.filter((o, i) => before.has(o) && next.indexOf(o) === i),
  };
}

/** The origin of `address` on the upstream's scheme and port (IPv6 in brackets, RFC 3986 3.2.2). */
export function originOf(upstream: string, address: string): string {
  const u = new URL(upstream);
  const host = isIP(address) === 6 ? `[${address}]` : address;
  return `${u.protocol}//${host}${u.port ? `:${u.port}` : ''}`;
}

/** The host of an upstream URL as a resolver takes it (IPv6 literals without brackets). */
export function hostOf(upstream: string): string {
  const h = new URL(upstream).hostname;
  return h.startsWith('[') ? h.slice(1, -1) : h;
}

export interface Resolved {
  /** The addresses each upstream is served with now (last known ones for a failed lookup). */
  byUpstream: Map<string, readonly string[]>;
  /** Upstreams whose lookup failed or came back empty this time, with why. */
  failed: Array<{ upstream: string; error: string }>;
}

/**
 * The addresses to serve each upstream with after `answers`: a lookup with addresses replaces
 * the last ones (sorted, so that the round robin's order does not move with the DNS server's
 * rotation); a failed or empty lookup keeps them and is listed in `failed`.
 */
export function applyAnswers(last: ReadonlyMap<string, readonly string[]>, answers: readonly Answer[]): Resolved {
  const byUpstream = new Map(last);
  const failed: Resolved['failed'] = [];
  for (const a of answers) {
    if ('error' in a) failed.push({ upstream: a.upstream, error: a.error });
    else if (a.addresses.length === 0) failed.push({ upstream: a.upstream, error: 'no A or AAAA records' });
    else byUpstream.set(a.upstream, [...new Set(a.addresses)].sort());
  }
  return { byUpstream, failed };
}

/**
 * The node list of a cluster, in the configured upstreams' order: each upstream's addresses, or,
 * for an upstream never resolved yet, the upstream itself (its name handed to the connection, as
 * without discovery): a cluster is never empty. The same address under two names is one node.
 */
export function nodeSpecs(upstreams: readonly string[], byUpstream: ReadonlyMap<string, readonly string[]>): NodeSpec[] {
  const out: NodeSpec[] = [];
  const seen = new Set<string>();
  for (const upstream of upstreams) {
    const host = hostOf(upstream);
    const addresses = isIP(host) ? undefined : byUpstream.get(upstream);
    const specs: NodeSpec[] = addresses
      ? addresses.map((address) => ({ origin: originOf(upstream, address), address, upstream, source: 'dns' }))
      : [{ origin: new URL(upstream).origin, address: host, upstream, source: isIP(host) ? 'static' : 'dns' }];
    for (const s of specs) {
      if (seen.has(s.origin)) continue;
      seen.add(s.origin);
      out.push(s);
    }
  }
  return out;
}
