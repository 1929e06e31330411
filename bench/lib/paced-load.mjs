// Open-loop load at a constant rate, spread evenly over time, for scenarios that time an event
// (the guard's revert) rather than measure throughput. autocannon's `overallRate` is not used
// here: each of its connections sends its share of a second as one burst when its 1 s interval
// fires (autocannon/lib/httpClient.js, `reqsMadeThisSecond`), so 1,000 req/s arrives as ~1,000
// requests within a few ms followed by ~1 s of silence, and "when did the last request reach the
// candidate" would be quantised to those bursts. Here a 1 ms timer sends what is due since the start
// (rate x elapsed), over a keep-alive undici Pool of `connections` connections.
import hdr from 'hdr-histogram-js';
import { Pool } from 'undici';

/**
 * Start sending GET `path` to `url` at `rate` req/s. Returns { stop() -> Promise<figures> }.
 * Bounded: sends nothing after `maxSeconds` or once `signal` aborts; at most `maxInFlight` requests
 * outstanding (beyond that a due request is counted as `shed`, not queued).
 */
export function startPacedLoad({ url, rate, connections = 20, maxSeconds, signal, path = '/', maxInFlight = 2000 }) {
  const pool = new Pool(url, { connections, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const statusCodes = {};
  // Each 2xx's time from send to its response body's end, µs (the figures' latencyMs).
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
  const errorCodes = {};
  let sent = 0;
  let completed = 0;
  let errors = 0;
  let shed = 0;
  let inFlight = 0;
  let settled = () => {};
  const start = performance.now();
  let end;

  const done = () => {
    inFlight--;
    if (inFlight === 0) settled();
  };
  const one = () => {
    sent++;
    inFlight++;
    const t0 = performance.now();
    pool.request({ path, method: 'GET' }).then(
      async (res) => {
        statusCodes[res.statusCode] = (statusCodes[res.statusCode] ?? 0) + 1;
        await res.body.dump().catch(() => {});
        if (res.statusCode >= 200 && res.statusCode < 300) histogram.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        completed++;
        done();
      },
      (err) => {
        errors++;
        const code = err.code ?? err.name;
        errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        done();
      },
    );
  };
  let due = 0;
  const timer = setInterval(() => {
    const elapsed = performance.now() - start;
    if (elapsed >= maxSeconds * 1000 || signal?.aborted) return halt();
    const target = Math.floor((rate * elapsed) / 1000);
    for (; due < target; due++) {
      if (inFlight >= maxInFlight) shed++;
      else one();
    }
  }, 1);

  function halt() {
    if (end !== undefined) return;
    clearInterval(timer);
    end = performance.now();
  }

  return {
    /** Stop sending, wait (up to 5 s) for the requests in flight, close the pool; resolves the figures. */
    async stop() {
      halt();
      if (inFlight > 0) {
        await Promise.race([new Promise((r) => (settled = r)), new Promise((r) => setTimeout(r, 5000).unref())]);
      }
      const unfinished = inFlight;
      await (unfinished > 0 ? pool.destroy() : pool.close()).catch(() => {});
      const seconds = (end - start) / 1000;
      return {
        rate,
        connections,
        durationSeconds: Math.round(seconds * 1000) / 1000,
        sent,
        completed,
        achievedRate: Math.round(sent / seconds),
        statusCodes,
        errors,
        errorCodes,
        shed,
        unfinished,
        latencyMs: {
          p50: Math.round(histogram.getValueAtPercentile(50)) / 1000,
          p99: Math.round(histogram.getValueAtPercentile(99)) / 1000,
          max: Math.round(histogram.maxValue) / 1000,
        },
      };
    },
  };
}
