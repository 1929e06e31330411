// Checks of config values that the schema cannot say: pure, used by validation (load.ts) and by
// the parts that own those values (the override header, the DNS resolver, the ramp plan).
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { RampConfig } from './schema.js';

/** An error message when a `clients` entry is not an address or a CIDR block, undefined when it is. */
export function checkClient(entry: string): string | undefined {
  const [addr, bits, extra] = entry.split('/');
  const v = isIP(addr);
  if (v === 0 || extra !== undefined) return `must be an IP address or a CIDR block, got ${JSON.stringify(entry.slice(0, 60))}`;
  if (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= (v === 6 ? 128 : 32))) return `has a bad prefix length: ${JSON.stringify(entry.slice(0, 60))}`;
  return undefined;
}

/** A problem with one `dns.servers` entry, or undefined when Node's resolver takes it. */
export function serverProblem(server: string): string | undefined {
  try {
    new dns.Resolver().setServers([server]);
    return undefined;
  } catch {
    return 'must be an IP address with an optional port, e.g. 10.96.0.10, 10.96.0.10:53 or [fd00::10]:53';
  }
}

/** Floating-point slack when checking that stepWeight lands on maxWeight (0.1 × 3 is not 0.3). */
const EPSILON = 1e-9;

/** Problems with a ramp config, each naming the field (relative to `at`, e.g. routes[0].ramp). */
export function rampProblems(r: RampConfig, at: string): string[] {
  const out: string[] = [];
  const hasSteps = r.steps !== undefined;
  const hasWeight = r.stepWeight !== undefined;
  if (hasSteps === hasWeight) out.push(`${at}: set exactly one of steps or stepWeight (with maxWeight)`);
  if (!hasWeight && r.maxWeight !== undefined) out.push(`${at}.maxWeight: only applies with stepWeight`);
  if (hasSteps) {
    r.steps!.forEach((s, i) => {
      if (i > 0 && !(s > r.steps![i - 1])) out.push(`${at}.steps[${i}]: must be above the step before it (${r.steps![i - 1]}), got ${s}`);
    });
  }
  if (hasWeight) {
    const w = r.stepWeight!;
    const max = r.maxWeight ?? 100;
    const n = max / w;
    if (w > max) out.push(`${at}.stepWeight: must be at most maxWeight (${max}), got ${w}`);
    else if (Math.abs(n - Math.round(n)) > EPSILON) {
      out.push(`${at}.stepWeight: ${w} does not land exactly on maxWeight ${max} (${Math.floor(n)} steps reach ${+(Math.floor(n) * w).toFixed(6)}); choose a stepWeight that divides maxWeight`);
    } else if (Math.round(n) > 100) out.push(`${at}.stepWeight: makes ${Math.round(n)} steps; at most 100`);
  }
  if (r.confirmWebhook !== undefined && (!/^https?:\/\/[^/]/.test(r.confirmWebhook) || !URL.canParse(r.confirmWebhook))) {
    out.push(`${at}.confirmWebhook: must be an http:// or https:// URL, got ${JSON.stringify(r.confirmWebhook.slice(0, 80))}`);
  }
  return out;
}
