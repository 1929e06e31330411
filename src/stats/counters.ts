// The plain counters of one slice of a series, or of a total: what the guard's rules count.

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

  subtract(o: Counters): void {
    this.requests -= o.requests;
    for (let i = 0; i < 5; i++) this.status[i] -= o.status[i];
    this.refused -= o.refused;
    this.reset -= o.reset;
    this.timeout -= o.timeout;
    this.other -= o.other;
    this.clientAborts -= o.clientAborts;
    this.unjudged -= o.unjudged;
    this.slow -= o.slow;
    this.gatewayAnswers -= o.gatewayAnswers;
  }

  clear(): void {
    this.requests = 0;
    this.status.fill(0);
    this.refused = this.reset = this.timeout = this.other = this.clientAborts = 0;
    this.unjudged = this.slow = this.gatewayAnswers = 0;
  }
}
