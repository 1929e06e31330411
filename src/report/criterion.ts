// One success criterion of the scorecard, judged: a leaf that the report's sections share.
export interface CriterionResult {
  criterion: string;
  limit: number;
  observed: number | null;
  interval: { lower: number; upper: number | null } | null;
  outcome: 'met' | 'missed' | 'not enough data';
}
