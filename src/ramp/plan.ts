// A route's ramp plan from its config: the steps (explicit, or the stepWeight shorthand) and the
// rules that the schema cannot say. Pure; used by config validation and by the ramp.
import type { RampConfig } from '../config/schema.js';
export { rampProblems } from '../config/checks.js';

export interface RampPlan {
  /** Candidate percentages, strictly increasing, each in (0, 100]. */
  steps: number[];
  holdMs: number;
  onBreach: 'revert' | 'pause';
  confirmWebhook: string | undefined;
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
