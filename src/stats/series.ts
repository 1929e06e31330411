// One (route, backend) series: a ring of one-second slices for the sliding window, folded into
// a cumulative total as they fall out, the way HdrHistogram's Recorder swaps intervals. The
// request path records into the current slice only: one histogram record, a few counters.
import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

export type ErrorKind = 'refused' | 'reset' | 'timeout' | 'other';
export const ERROR_KINDS: readonly ErrorKind[] = ['refused', 'reset', 'timeout', 'other'];

export function newHistogram(): Histogram {
  // Latency in microseconds; auto-resize keeps memory proportional to the largest value seen.
  return hdr.build({ bitBucketSize: 32, autoResize: true, numberOfSignificantValueDigits: 3 });
}

/** Plain counters of one slice or of a total. */
export class Counters {
  requests = 0;
  /** Responses by status class: index 0 is 1xx ... index 4 is 5xx. */
  status = [0, 0, 0, 0, 0];
  refused = 0;
  reset = 0;
  timeout = 0;
  other = 0;
  /** Clients that went away before their response was complete. */
  clientAborts = 0;

  add(o: Counters): void {
    this.requests += o.requests;
    for (let i = 0; i < 5; i++) this.status[i] += o.status[i];
    this.refused += o.refused;
    this.reset += o.reset;
    this.timeout += o.timeout;
    this.other += o.other;
    this.clientAborts += o.clientAborts;
  }

  clear(): void {
    this.requests = 0;
    this.status.fill(0);
    this.refused = this.reset = this.timeout = this.other = this.clientAborts = 0;
  }
}

interface Slice {
  /** Slice number (floor(now / sliceMs)); -1 when unused. */
  index: number;
  counters: Counters;
  histogram: Histogram | undefined;
}

export interface SeriesView {
  counters: Counters;
  histogram: Histogram;
}

export class Series {
  private readonly ring: Slice[];
  private head: Slice;
  private headIndex = -1;
  private readonly total: SeriesView = { counters: new Counters(), histogram: newHistogram() };

  /**
   * @param retainSeconds the longest window anyone will ask for
   * @param sliceMs slice length; the window moves in steps of this size
   */
  constructor(
    retainSeconds: number,
    private readonly sliceMs = 1000,
  ) {
    const slots = Math.ceil((retainSeconds * 1000) / sliceMs) + 1;
    this.ring = Array.from({ length: slots }, () => ({ index: -1, counters: new Counters(), histogram: undefined }));
    this.head = this.ring[0];
  }

  /** A response arrived: status and latency from dispatch to response headers (µs). */
  response(now: number, status: number, latencyUs: number): void {
    const s = this.slice(now);
    s.counters.requests++;
    const cls = (status / 100) | 0;
    if (cls >= 1 && cls <= 5) s.counters.status[cls - 1]++;
    (s.histogram ??= newHistogram()).recordValue(latencyUs < 1 ? 1 : latencyUs);
  }

  /**
   * The upstream failed (refused, reset, timed out, ...). `counted` says whether the request was
   * already counted, i.e. its response had started when the body broke off.
   */
  transportError(now: number, kind: ErrorKind, counted = false): void {
    const s = this.slice(now);
    if (!counted) s.counters.requests++;
    s.counters[kind]++;
  }

  /** The client went away. `counted` says whether the request was already counted (response started). */
  clientAbort(now: number, counted: boolean): void {
    const s = this.slice(now);
    if (!counted) s.counters.requests++;
    s.counters.clientAborts++;
  }

  /** Everything recorded in the last `seconds` (the current, partial slice included). */
  window(now: number, seconds: number): SeriesView {
    this.slice(now);
    const oldest = this.headIndex - Math.ceil((seconds * 1000) / this.sliceMs) + 1;
    const out: SeriesView = { counters: new Counters(), histogram: newHistogram() };
    for (const s of this.ring) {
      if (s.index >= oldest && s.index <= this.headIndex) addSlice(out, s);
    }
    return out;
  }

  /** Everything since the series was created. */
  cumulative(now: number): SeriesView {
    this.slice(now);
    const out: SeriesView = { counters: new Counters(), histogram: newHistogram() };
    out.counters.add(this.total.counters);
    out.histogram.add(this.total.histogram);
    for (const s of this.ring) if (s.index !== -1) addSlice(out, s);
    return out;
  }

  /** Move the head to the slice for `now`, folding slices that leave the ring into the total. */
  private slice(now: number): Slice {
    const index = Math.floor(now / this.sliceMs);
    if (index === this.headIndex) return this.head;
    if (index < this.headIndex) return this.head; // a clock that went backwards: stay put
    const n = this.ring.length;
    const from = Math.max(this.headIndex + 1, index - n + 1);
    for (let i = from; i <= index; i++) {
      const s = this.ring[i % n];
      if (s.index !== -1) {
        addSlice(this.total, s);
        s.counters.clear();
        s.histogram?.reset();
      }
      s.index = i;
    }
    this.headIndex = index;
    this.head = this.ring[index % n];
    return this.head;
  }
}

function addSlice(into: SeriesView, s: Slice): void {
  into.counters.add(s.counters);
  if (s.histogram && s.histogram.totalCount > 0) into.histogram.add(s.histogram);
}
