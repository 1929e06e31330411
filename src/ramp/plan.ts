// A route's ramp plan from its config: the steps (explicit, or the stepWeight shorthand) and the
// rules that the schema cannot say. Pure; used by config validation and by the ramp.
import type { RampConfig } from '../config/schema.js';

export interface RampPlan {
  /** Candidate percentages, strictly increasing, each in (0, 100]. */
  steps: number[];
  holdMs: number;
  onBreach: 'revert' | 'pause';
  confirmWebhook: string | undefined;
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

/** The plan of a valid ramp config (validate with rampProblems first). */
export function planOf(r: RampConfig): RampPlan {
  let steps: number[];
  if (r.steps !== undefined) steps = [...r.steps];
  else {
    const w = r.stepWeight!;
    const n = Math.round((r.maxWeight ?? 100) / w);
    // Rounded to 6 decimals so that 3 × 0.1 shows as 0.3, and the last step is maxWeight exactly.
    steps = Array.from({ length: n }, (_, i) => (i === n - 1 ? (r.maxWeight ?? 100) : +((i + 1) * w).toFixed(6)));
  }
  return { steps, holdMs: r.holdSeconds * 1000, onBreach: r.onBreach, confirmWebhook: r.confirmWebhook };
}
