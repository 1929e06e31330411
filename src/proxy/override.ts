// The override header: a tester forces legacy or candidate. Off unless configured, optionally
// restricted to a shared secret in the value and to trusted client addresses. A forced request is
// recorded apart and never enters the guard's figures, so nobody can steer the guard with it.
import { timingSafeEqual, createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { BackendName } from '../config/schema.js';
export { checkClient } from '../config/checks.js';

export interface OverrideRule {
  /** Lower-case header name. */
  header: string;
  /** SHA-256 of the secret the value must carry (`candidate; token=SECRET`), when one is set. */
  tokenDigest?: Buffer;
  /** Client addresses allowed to use it, when restricted. */
  clients?: BlockList;
}

export type OverrideResult = BackendName | 'invalid' | 'forbidden';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function compileOverride(header: string, token: string | undefined, clients: readonly string[] | undefined): OverrideRule {
  const rule: OverrideRule = { header: header.toLowerCase() };
  if (token !== undefined) rule.tokenDigest = digest(token);
  if (clients) {
    const list = new BlockList();
    for (const c of clients) {
      const [addr, bits] = c.split('/');
      const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) list.addAddress(addr, type);
      else list.addSubnet(addr, Number(bits), type);
    }
    rule.clients = list;
  }
  return rule;
}

/** The backend a request's override value forces, or why it is refused. */
export function judgeOverride(rule: OverrideRule, value: string, remoteAddress: string | undefined): OverrideResult {
  const semi = value.indexOf(';');
  const name = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
  if (name !== 'legacy' && name !== 'candidate') return 'invalid';
  if (rule.clients) {
    const addr = remoteAddress?.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
    if (addr === undefined || !rule.clients.check(addr, isIP(addr) === 6 ? 'ipv6' : 'ipv4')) return 'forbidden';
  }
  if (rule.tokenDigest) {
    const m = semi === -1 ? null : /(?:^|;)\s*token=([^;]*)/.exec(value.slice(semi));
    if (!m || !timingSafeEqual(digest(m[1].trim()), rule.tokenDigest)) return 'forbidden';
  }
  return name;
}
