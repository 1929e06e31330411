// The scorecard's parity section of a route: what the shadow compared, the mismatch rate with
// its interval, the fields that differed most, the noise learned, and the verdict against
// report.criteria.maxMismatchRate (also one of the route's criteria, so it decides the answer
// like the others). Pure.
import { proportionBounds } from '../guard/bounds.js';
import { topPaths } from '../parity/merge.js';
import type { ParityEvidence } from '../parity/source.js';
import type { CriterionResult } from './criterion.js';

/** How many differing fields (and noise paths) the section lists. */
export const TOP_FIELDS = 5;

export interface ParitySection {
  compared: number;
  matched: number;
  mismatched: number;
  /** mismatched / compared (null before the first comparison). */
  mismatchRate: number | null;
  /** Its bounds at the report's confidence, each side (exact, Clopper-Pearson). */
  interval: { lower: number; upper: number } | null;
  /** The differing fields, most frequent first (JSON Pointers, `header:NAME`, `status`). */
  differences: Array<{ path: string; count: number }>;
  /** Fields learned as noise (they differ between two legacy answers), never counted as mismatches. */
  noise: Array<{ path: string; count: number }>;
  /** Against report.criteria.maxMismatchRate ('no criterion' when it is not set). */
  verdict: CriterionResult['outcome'] | 'no criterion';
}

export function paritySection(p: ParityEvidence, limit: number | undefined, confidence: number): { section: ParitySection; criterion: CriterionResult | undefined } {
  const n = p.compared;
  const b = n > 0 ? proportionBounds(p.mismatched, n, confidence) : null;
  let criterion: CriterionResult | undefined;
  if (limit !== undefined) {
    const outcome: CriterionResult['outcome'] = !b ? 'not enough data' : b.upper <= limit ? 'met' : b.lower > limit ? 'missed' : 'not enough data';
    criterion = { criterion: 'maxMismatchRate', limit, observed: b ? p.mismatched / n : null, interval: b, outcome };
  }
  const section: ParitySection = {
    compared: n,
    matched: p.matched,
    mismatched: p.mismatched,
    mismatchRate: n > 0 ? p.mismatched / n : null,
    interval: b,
    differences: topPaths(p.differences ?? {}, TOP_FIELDS),
    noise: topPaths(p.noise ?? {}, TOP_FIELDS),
    verdict: criterion?.outcome ?? 'no criterion',
  };
  return { section, criterion };
}
