// One (route, backend) series: a ring of one-second slices for the sliding window, folded into
// a cumulative total as they fall out, the way HdrHistogram's Recorder swaps intervals. The
// request path records into the current slice only: one histogram record, a few counters.
import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { Counters } from './counters.js';

export { Counters };

export type ErrorKind = 'refused' | 'reset' | 'timeout' | 'other';
export const ERROR_KINDS: readonly ErrorKind[] = ['refused', 'reset', 'timeout', 'other'];

export function newHistogram(): Histogram {
  // Latency in microseconds; auto-resize keeps memory proportional to the largest value seen.
  return hdr.build({ bitBucketSize: 32, autoResize: true, numberOfSignificantValueDigits: 3 });
}

/** A request in flight, as the series sees it. */
export interface InFlight {
  /** Monotonic ms when it was dispatched. */
  started: number;
}

interface Recorded {
  counters: Counters;
  histogram: Histogram | undefined;
}

interface Slice extends Recorded {
  /** Slice number (floor(now / sliceMs)), or coarse slot number; -1 when unused. */
  index: number;
  /** Fine slices it holds: 1, or COARSE_FACTOR for a coarse slot. */
  readonly span: number;
  /** The part of this slice from requests that started before the last re-arm (see Series.rearm). */
  excluded: Recorded | undefined;
}

export interface SeriesView {
  counters: Counters;
  histogram: Histogram;
}

/** Fine slices kept at most; older ones are folded into coarse slots of COARSE_FACTOR slices. */
const FINE_SLOTS = 61;
const COARSE_FACTOR = 60;
/** Window lengths whose sum is kept as the head moves (the stats window, the guard's two, one spare). */
const MAX_SLIDING = 4;

export class Series {
  private readonly ring: Slice[];
  /**
   * Coarse slots (COARSE_FACTOR fine slices each) for windows longer than the fine ring, so that
   * memory stays bounded whatever the window: at most 61 fine and 62 coarse histograms for an
   * hour. `index` is the coarse slot number; undefined when the fine ring covers every window.
   */
  private readonly coarse: Slice[] | undefined;
  private head: Slice;
  private headIndex = -1;
  private readonly total: SeriesView = { counters: new Counters(), histogram: newHistogram() };
  /**
   * Everything recorded except the head slice (the total, the closed fine slices, the coarse
   * slots), kept as the head moves: one histogram add per second, so that cumulative() is two adds
   * instead of one per slice (62 for a minute's ring, on every scrape and every worker report).
   */
  private readonly settled: Recorded = { counters: new Counters(), histogram: undefined };
  /**
   * The closed fine slices of the last n slices, per window length n that someone reads, kept as
   * the head moves (add the slice that closes, subtract the one that leaves): window() is two adds
   * instead of one per slice. Only without coarse slots (a window within the fine ring), and for at
   * most MAX_SLIDING lengths; other windows are summed slice by slice as before.
   */
  private readonly sliding = new Map<number, Recorded>();

  /**
   * @param retainSeconds the longest window anyone will ask for
   * @param sliceMs slice length; the window moves in steps of this size (of COARSE_FACTOR slices
   *   at its far end, for windows longer than the fine ring)
   */
  constructor(
    retainSeconds: number,
    private readonly sliceMs = 1000,
  ) {
    const slots = Math.ceil((retainSeconds * 1000) / sliceMs) + 1;
    const empty = (span: number) => (): Slice => ({ index: -1, span, counters: new Counters(), histogram: undefined, excluded: undefined });
    this.ring = Array.from({ length: Math.min(slots, FINE_SLOTS) }, empty(1));
    this.coarse = slots > FINE_SLOTS ? Array.from({ length: Math.ceil(slots / COARSE_FACTOR) + 2 }, empty(COARSE_FACTOR)) : undefined;
    this.head = this.ring[0];
  }

  /**
   * Latency (µs) above which a request counts as slow: the guard's latency threshold for the
   * route (Infinity when it has none). Set by the wiring from the config (guard/thresholds.ts).
   */
  slowUs = Infinity;

  /**
   * How long (ms) an upstream request is kept going after its client gave up before any response,
   * to learn whether the backend would have answered in time (a client timeout must not hide a
   * hang). 0 aborts the upstream at once. Set by the wiring (guard/thresholds.ts).
   */
  watchAbortedMs = 0;

  /**
   * Requests in flight, oldest first (a Set iterates in insertion order), so that a backend that
   * hangs is visible before anything completes.
   */
  readonly inFlight = new Set<InFlight>();

  /**
   * Monotonic ms of the last re-arm of the guard on this route. Requests that started before it
   * are recorded like any other (metrics see everything) but left out of what the guard and the
   * ramp judge: windowCounters, inFlightAges and judged() (the failures that caused a revert are
   * not judged again, whenever they finish).
   */
  private judgeFrom = -Infinity;
  /** Requests that started before the re-arm and were recorded after it, since the series began. */
  private readonly late: Recorded = { counters: new Counters(), histogram: undefined };

  /** The guard was re-armed at `now` (monotonic ms): from now on only requests that start from `now` are judged. */
  rearm(now: number): void {
    this.judgeFrom = now;
    const head = this.slice(now);
    // Everything in the current slice so far started before the re-arm.
    head.excluded = { counters: new Counters(), histogram: undefined };
    addSlice(head.excluded, head);
  }

  /**
   * One request is over: its one and only record, with everything known about it.
   * @param status the upstream's status, 0 when no response came
   * @param error the transport failure, if any (with a status: the body broke off after the headers)
   * @param latencyUs time to the response headers; for a timeout or an abort without response, the request's age
   * @param aborted the client went away before its response was complete
   * @param started monotonic ms when the request was dispatched (its in-flight entry's start);
   *   a request that started before the last re-arm is not judged
   */
  record(now: number, status: number, error: ErrorKind | null, latencyUs: number, aborted: boolean, started = now): void {
    const c = this.slice(now);
    this.recordInto(c, status, error, latencyUs, aborted);
    if (started < this.judgeFrom) {
      this.recordInto((c.excluded ??= { counters: new Counters(), histogram: undefined }), status, error, latencyUs, aborted);
      this.recordInto(this.late, status, error, latencyUs, aborted);
    }
  }

  private recordInto(c: Recorded, status: number, error: ErrorKind | null, latencyUs: number, aborted: boolean): void {
    const k = c.counters;
    k.requests++;
    if (aborted) k.clientAborts++;
    if (status > 0) {
      const cls = (status / 100) | 0;
      if (cls >= 1 && cls <= 5) k.status[cls - 1]++;
      this.latency(c, latencyUs);
      if (error !== null) k[error]++;
    } else if (error !== null) {
      k[error]++;
      if (!aborted) k.gatewayAnswers++;
      // A timeout is a latency of at least the timeout, in every latency rule.
      if (error === 'timeout') this.latency(c, latencyUs);
    } else if (latencyUs > this.slowUs) {
      this.latency(c, latencyUs); // gave up after the threshold: slow at its age
    } else {
      k.unjudged++; // gave up early: no evidence either way
    }
  }

  private latency(c: Recorded, us: number): void {
    if (us > this.slowUs) c.counters.slow++;
    (c.histogram ??= newHistogram()).recordValue(us < 1 ? 1 : us);
  }

  /** Ages (ms) of the requests in flight for at least `minMs`, oldest first; those started before the last re-arm are left out. */
  inFlightAges(now: number, minMs: number, limit = 10_000): number[] {
    const out: number[] = [];
    for (const r of this.inFlight) {
      if (r.started < this.judgeFrom) continue;
      const age = now - r.started;
      if (age < minMs || out.length >= limit) break;
      out.push(age);
    }
    return out;
  }

  /** Everything recorded in the last `seconds` (the current, partial slice included). */
  window(now: number, seconds: number): SeriesView {
    const out: SeriesView = { counters: new Counters(), histogram: newHistogram() };
    this.slice(now);
    const closed = this.closedSlices(Math.ceil((seconds * 1000) / this.sliceMs));
    if (closed) {
      addSlice(out, closed);
      addSlice(out, this.head);
      return out;
    }
    for (const s of this.slicesOf(now, seconds)) addSlice(out, s);
    return out;
  }

  /**
   * Keep the window of `seconds` from now on, before anyone reads it: its first read then costs two
   * adds, not a sum over every slice (the first /metrics scrape, 40-100 ms under load otherwise).
   */
  keepWindow(seconds: number): void {
    this.closedSlices(Math.ceil((seconds * 1000) / this.sliceMs));
  }

  /** The kept sum of the closed slices of a window of `n` slices (started on first use), or undefined when it is not kept. */
  private closedSlices(n: number): Recorded | undefined {
    let w = this.sliding.get(n);
    if (w) return w;
    if (this.coarse || n < 1 || n > this.ring.length - 1 || this.sliding.size >= MAX_SLIDING) return undefined;
    w = { counters: new Counters(), histogram: undefined };
    const oldest = this.headIndex - n + 1;
    for (const s of this.ring) if (s.index >= oldest && s.index < this.headIndex) addSlice(w, s);
    this.sliding.set(n, w);
    return w;
  }

  /**
   * The head moves from `this.headIndex` to `index`: the old head closes (into the settled sum and
   * the sliding windows that still hold it) and the slices that leave each sliding window come
   * out of it. Runs before the ring reuses any slot, so every slice that leaves is still there.
   */
  private advance(index: number): void {
    const from = this.headIndex;
    if (from === -1) return;
    addSlice(this.settled, this.head);
    for (const [n, w] of this.sliding) {
      // Closed slices of the window: [from - n + 1, from - 1] before, [index - n + 1, index - 1] after.
      if (index - n + 1 > from) {
        w.counters.clear();
        w.histogram?.reset();
        continue;
      }
      addSlice(w, this.head);
      for (let i = from - n + 1; i <= index - n; i++) {
        const s = this.ring[((i % this.ring.length) + this.ring.length) % this.ring.length];
        if (s.index === i) subtractSlice(w, s);
      }
    }
  }

  /** The fine slices, and the coarse slots, that hold the last `seconds`. */
  private *slicesOf(now: number, seconds: number): Generator<Slice> {
    this.slice(now);
    const oldest = this.headIndex - Math.ceil((seconds * 1000) / this.sliceMs) + 1;
    for (const s of this.ring) if (s.index >= oldest && s.index <= this.headIndex) yield s;
    if (this.coarse) {
      // A coarse slot only holds slices older than the fine ring: no overlap with the above.
      for (const c of this.coarse) if (c.index !== -1 && (c.index + 1) * COARSE_FACTOR - 1 >= oldest) yield c;
    }
  }

  /**
   * What the guard judges of the last `seconds`: the counters without merging histograms (cheap:
   * the guard reads this for every route every interval), with how many requests had a latency;
   * the merged histogram only when asked for. Requests that started before the last re-arm are
   * left out (slices before it entirely, and the part of later slices they make up).
   */
  windowCounters(now: number, seconds: number, withHistogram = false): { counters: Counters; timed: number; histogram?: Histogram } {
    const counters = new Counters();
    let timed = 0;
    const histogram = withHistogram ? newHistogram() : undefined;
    const armedSlice = Math.floor(this.judgeFrom / this.sliceMs);
    for (const s of this.slicesOf(now, seconds)) {
      if (this.startsBefore(s, armedSlice)) continue;
      counters.add(s.counters);
      const n = s.histogram?.totalCount ?? 0;
      timed += n;
      if (histogram && n > 0) histogram.add(s.histogram!);
      const x = s.excluded;
      if (!x) continue;
      counters.subtract(x.counters);
      timed -= x.histogram?.totalCount ?? 0;
      if (histogram && x.histogram && x.histogram.totalCount > 0) histogram.subtract(x.histogram);
    }
    return { counters, timed, histogram };
  }

  /** Whether a fine slice, or a coarse slot, begins before the slice of the last re-arm (and is not judged). */
  private startsBefore(s: Slice, armedSlice: number): boolean {
    return armedSlice !== -Infinity && s.index * s.span < armedSlice;
  }

  /** Cumulative figures without the requests that started before the last re-arm and ended after it (a ramp's hold). */
  judged(now: number): SeriesView {
    const out = this.cumulative(now);
    out.counters.subtract(this.late.counters);
    if (this.late.histogram && this.late.histogram.totalCount > 0) out.histogram.subtract(this.late.histogram);
    return out;
  }

  /** Requests recorded since the series was created: counters only, no histogram (cheap). */
  cumulativeRequests(now: number): number {
    this.slice(now);
    return this.settled.counters.requests + this.head.counters.requests;
  }

  /** Everything since the series was created. */
  cumulative(now: number): SeriesView {
    this.slice(now);
    const out: SeriesView = { counters: new Counters(), histogram: newHistogram() };
    addSlice(out, this.settled);
    addSlice(out, this.head);
    return out;
  }

  /**
   * Where a fine slice that leaves the ring goes: its coarse slot (whose previous contents, a
   * whole ring ago, go to the total first), or the total when there are no coarse slots.
   */
  private older(fineIndex: number): Recorded | Slice {
    if (!this.coarse) return this.total;
    const index = Math.floor(fineIndex / COARSE_FACTOR);
    const c = this.coarse[index % this.coarse.length];
    if (c.index !== index) {
      if (c.index !== -1) {
        addSlice(this.total, c);
        c.counters.clear();
        c.histogram?.reset();
        c.excluded = undefined;
      }
      c.index = index;
    }
    return c;
  }

  /** Move the head to the slice for `now`, folding slices that leave the ring into the total. */
  private slice(now: number): Slice {
    const index = Math.floor(now / this.sliceMs);
    if (index === this.headIndex) return this.head;
    if (index < this.headIndex) return this.head; // a clock that went backwards: stay put
    this.advance(index);
    const n = this.ring.length;
    const from = Math.max(this.headIndex + 1, index - n + 1);
    for (let i = from; i <= index; i++) {
      const s = this.ring[i % n];
      if (s.index !== -1) {
        const into = this.older(s.index);
        addSlice(into, s);
        if (s.excluded && 'excluded' in into) addSlice((into.excluded ??= { counters: new Counters(), histogram: undefined }), s.excluded);
        s.counters.clear();
        s.histogram?.reset();
        s.excluded = undefined;
      }
      s.index = i;
    }
    this.headIndex = index;
    this.head = this.ring[index % n];
    return this.head;
  }
}

function addSlice(into: Recorded, s: Recorded): void {
  into.counters.add(s.counters);
  if (s.histogram && s.histogram.totalCount > 0) (into.histogram ??= newHistogram()).add(s.histogram);
}

function subtractSlice(from: Recorded, s: Recorded): void {
  from.counters.subtract(s.counters);
  if (s.histogram && s.histogram.totalCount > 0) from.histogram!.subtract(s.histogram);
}
