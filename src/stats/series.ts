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
  /**
   * Requests left out of the guard's figures: the client went away before any response and
   * before the slow threshold, so nothing is known about how the backend would have done.
   */
  unjudged = 0;
  /** Requests slower than the series' slow threshold: responses, timeouts and aborts at their age. */
  slow = 0;
  /** 502/504 answers cutover wrote itself because this backend failed before responding. */
  gatewayAnswers = 0;

  add(o: Counters): void {
    this.requests += o.requests;
    for (let i = 0; i < 5; i++) this.status[i] += o.status[i];
    this.refused += o.refused;
    this.reset += o.reset;
    this.timeout += o.timeout;
    this.other += o.other;
    this.clientAborts += o.clientAborts;
    this.unjudged += o.unjudged;
    this.slow += o.slow;
    this.gatewayAnswers += o.gatewayAnswers;
  }

  clear(): void {
    this.requests = 0;
    this.status.fill(0);
    this.refused = this.reset = this.timeout = this.other = this.clientAborts = 0;
    this.unjudged = this.slow = this.gatewayAnswers = 0;
  }
}

/** A request in flight, as the series sees it. */
export interface InFlight {
  /** Monotonic ms when it was dispatched. */
  started: number;
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

/** Fine slices kept at most; older ones are folded into coarse slots of COARSE_FACTOR slices. */
const FINE_SLOTS = 61;
const COARSE_FACTOR = 60;

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
   * @param retainSeconds the longest window anyone will ask for
   * @param sliceMs slice length; the window moves in steps of this size (of COARSE_FACTOR slices
   *   at its far end, for windows longer than the fine ring)
   */
  constructor(
    retainSeconds: number,
    private readonly sliceMs = 1000,
  ) {
    const slots = Math.ceil((retainSeconds * 1000) / sliceMs) + 1;
    const empty = (): Slice => ({ index: -1, counters: new Counters(), histogram: undefined });
    this.ring = Array.from({ length: Math.min(slots, FINE_SLOTS) }, empty);
    this.coarse = slots > FINE_SLOTS ? Array.from({ length: Math.ceil(slots / COARSE_FACTOR) + 2 }, empty) : undefined;
    this.head = this.ring[0];
  }

  /**
   * Latency (µs) above which a request counts as slow: the guard's latency threshold for the
   * route (Infinity when it has none). Set by the guard when it is configured.
   */
  slowUs = Infinity;

  /**
   * How long (ms) an upstream request is kept going after its client gave up before any response,
   * to learn whether the backend would have answered in time (a client timeout must not hide a
   * hang). 0 aborts the upstream at once. Set by the guard.
   */
  watchAbortedMs = 0;

  /**
   * Requests in flight, oldest first (a Set iterates in insertion order), so that a backend that
   * hangs is visible before anything completes.
   */
  readonly inFlight = new Set<InFlight>();

  /**
   * One request is over: its one and only record, with everything known about it.
   * @param status the upstream's status, 0 when no response came
   * @param error the transport failure, if any (with a status: the body broke off after the headers)
   * @param latencyUs time to the response headers; for a timeout or an abort without response, the request's age
   * @param aborted the client went away before its response was complete
   */
  record(now: number, status: number, error: ErrorKind | null, latencyUs: number, aborted: boolean): void {
    const c = this.slice(now);
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

  private latency(c: Slice, us: number): void {
    if (us > this.slowUs) c.counters.slow++;
    (c.histogram ??= newHistogram()).recordValue(us < 1 ? 1 : us);
  }

  /** Ages (ms) of the requests in flight for at least `minMs`, oldest first. */
  inFlightAges(now: number, minMs: number, limit = 10_000): number[] {
    const out: number[] = [];
    for (const r of this.inFlight) {
      const age = now - r.started;
      if (age < minMs || out.length >= limit) break;
      out.push(age);
    }
    return out;
  }

  /** Everything recorded in the last `seconds` (the current, partial slice included). */
  window(now: number, seconds: number): SeriesView {
    const out: SeriesView = { counters: new Counters(), histogram: newHistogram() };
    for (const s of this.slicesOf(now, seconds)) addSlice(out, s);
    return out;
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
   * The counters of the last `seconds` without merging histograms (cheap: the guard reads this
   * for every route every interval), with how many requests had a latency; the merged histogram
   * only when asked for.
   */
  windowCounters(now: number, seconds: number, withHistogram = false): { counters: Counters; timed: number; histogram?: Histogram } {
    const counters = new Counters();
    let timed = 0;
    const histogram = withHistogram ? newHistogram() : undefined;
    for (const s of this.slicesOf(now, seconds)) {
      counters.add(s.counters);
      const n = s.histogram?.totalCount ?? 0;
      timed += n;
      if (histogram && n > 0) histogram.add(s.histogram!);
    }
    return { counters, timed, histogram };
  }

  /** Everything since the series was created. */
  cumulative(now: number): SeriesView {
    this.slice(now);
    const out: SeriesView = { counters: new Counters(), histogram: newHistogram() };
    out.counters.add(this.total.counters);
    out.histogram.add(this.total.histogram);
    for (const s of this.ring) if (s.index !== -1) addSlice(out, s);
    for (const c of this.coarse ?? []) if (c.index !== -1) addSlice(out, c);
    return out;
  }

  /**
   * Where a fine slice that leaves the ring goes: its coarse slot (whose previous contents, a
   * whole ring ago, go to the total first), or the total when there are no coarse slots.
   */
  private older(fineIndex: number): { counters: Counters; histogram: Histogram | undefined } {
    if (!this.coarse) return this.total;
    const index = Math.floor(fineIndex / COARSE_FACTOR);
    const c = this.coarse[index % this.coarse.length];
    if (c.index !== index) {
      if (c.index !== -1) {
        addSlice(this.total, c);
        c.counters.clear();
        c.histogram?.reset();
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
    const n = this.ring.length;
    const from = Math.max(this.headIndex + 1, index - n + 1);
    for (let i = from; i <= index; i++) {
      const s = this.ring[i % n];
      if (s.index !== -1) {
        addSlice(this.older(s.index), s);
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

function addSlice(into: { counters: Counters; histogram: Histogram | undefined }, s: Slice): void {
  into.counters.add(s.counters);
  if (s.histogram && s.histogram.totalCount > 0) (into.histogram ??= newHistogram()).add(s.histogram);
}
