// The candidate share at one fixed granularity. 100 - 99.99 is 0.010000000000005116 in binary
// floating point; stored like that it is shown, persisted and compared like that. Every
// percentage that enters control/ is rounded here, to 0.0001 % (one request in a million).

/** The granularity of a stored percentage: 0.0001 %. */
export const PERCENT_STEPS_PER_UNIT = 10_000;

/** A percentage at the fixed granularity (0.0001): 100 - 99.99 → 0.01. */
export function roundPercent(p: number): number {
  return Math.round(p * PERCENT_STEPS_PER_UNIT) / PERCENT_STEPS_PER_UNIT;
}
