// Name → every address, the only I/O of discovery. With `dns.servers` configured, Node's
// dns.Resolver asks those servers for A and AAAA records (both, so a dual-stack headless Service
// gives every pod's addresses). Without it, the system resolver: getaddrinfo with all results,
// the same lookup undici made for the name before discovery, so /etc/hosts and the search
// domains of a pod's resolv.conf (`legacy-headless` for legacy-headless.ns.svc.cluster.local)
// work as they did.
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
export { serverProblem } from '../config/checks.js';

/** Every address `host` resolves to now; throws (with the resolver's code) when the lookup fails. */
export type Resolve = (host: string) => Promise<string[]>;

/** How long one query waits for a server (ms), and how often it is sent before giving up. */
const QUERY_TIMEOUT_MS = 1000;
const QUERY_TRIES = 2;

export function createResolver(servers?: readonly string[]): Resolve {
  if (servers === undefined || servers.length === 0) {
    return async (host) => {
      if (isIP(host)) return [host];
      const all = await dns.lookup(host, { all: true, family: 0 });
      return all.map((a) => a.address);
    };
  }
  const resolver = new dns.Resolver({ timeout: QUERY_TIMEOUT_MS, tries: QUERY_TRIES });
  resolver.setServers([...servers]);
  return async (host) => {
    if (isIP(host)) return [host];
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
    const out = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    if (out.length > 0) return out;
    // A name with records of one family only is fine. With none, the error that says most: a
    // missing name or an unreachable server rather than the other family's "no data".
    const errors = [v4, v6].flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    if (errors.length > 0) throw errors.find((e) => !noData(e)) ?? errors[0];
    return out;
  };
}

const noData = (err: unknown) => (err as { code?: string } | null)?.code === dns.NODATA;

/** A lookup error as one line: its code and the name, e.g. "ENOTFOUND legacy-headless". */
export function lookupError(err: unknown, host: string): string {
  const code = (err as { code?: string } | null)?.code;
  return code ? `${code} ${host}` : `${(err as Error)?.message ?? String(err)} (${host})`;
}
