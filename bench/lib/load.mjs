// One autocannon run (programmatic, in this process), reduced to the figures the bench reports.
// autocannon's own latency histogram has a 1 ms resolution, too coarse for a loopback proxy, so
// each 2xx response time is also recorded here in microseconds (autocannon times it with hrtime).
import autocannon from 'autocannon';
import hdr from 'hdr-histogram-js';

/**
 * Drive `url` with `connections` keep-alive connections for `durationSeconds`, as fast as they go
 * or, with `rate`, at that many requests per second in all (autocannon's overallRate).
 * Bounded: stops at the duration, on `signal`, or at duration + 15 s whatever happens.
 */
export function runLoad({ url, connections, durationSeconds, signal, rate }) {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: durationSeconds, pipelining: 1, timeout: 10, ...(rate ? { overallRate: rate } : {}) }, (err, result) => {
      clearTimeout(guard);
      signal?.removeEventListener('abort', stop);
      if (err) return reject(err);
      if (signal?.aborted) return reject(signal.reason);
      resolve(figures(result, histogram));
    });
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      if (statusCode >= 200 && statusCode < 300) histogram.recordValue(Math.max(1, Math.round(responseTimeMs * 1000)));
    });
    const stop = () => instance.stop();
    const guard = setTimeout(stop, (durationSeconds + 15) * 1000);
    signal?.addEventListener('abort', stop, { once: true });
  });
}

const ms = (us) => Math.round(us) / 1000;

function figures(result, h) {
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
  return {
    reqPerSec: result.requests.average,
    durationSeconds: result.duration,
    completed: result.requests.total,
    sent: result.requests.sent,
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    resets: result.resets,
    statusCodes,
    // Latency of 2xx responses, ms with microsecond resolution.
    latencyMs: {
      mean: ms(h.mean),
      p50: ms(h.getValueAtPercentile(50)),
      p90: ms(h.getValueAtPercentile(90)),
      p99: ms(h.getValueAtPercentile(99)),
      p999: ms(h.getValueAtPercentile(99.9)),
      max: ms(h.maxValue),
    },
    // autocannon's own figures (whole ms) for reference.
    autocannonLatencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
  };
}
