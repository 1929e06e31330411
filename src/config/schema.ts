// The one definition of cutover's configuration: types, defaults and documentation all come
// from here. config/cutover.schema.json is generated from it (npm run schema) for editors.
import { Type, type Static } from '@sinclair/typebox';
import { Shadow } from './schema-parity.js';
import { Backend, closed, Discovery, HeaderName, OutlierDetection, Timeouts } from './schema-backend.js';

export { Backend, Discovery, OutlierDetection, Timeouts };

export const Sticky = Type.Object(
  {
    header: Type.Optional(HeaderName),
    cookie: Type.Optional(Type.String({ minLength: 1, description: 'cookie name' })),
  },
  { ...closed, description: 'Where the stickiness key comes from: exactly one of header or cookie.' },
);

const nullable = (n: ReturnType<typeof Type.Number>, dflt: number | null | undefined, description: string) =>
  Type.Union([n, Type.Null()], dflt === undefined ? { description } : { default: dflt, description });

/** Guard rules; `withDefaults` false for a route's overrides, where absent means "as the global rule". */
const guardRules = (withDefaults: boolean) => {
  const d = <T>(v: T) => (withDefaults ? v : undefined);
  const fields = {
    maxErrorRate: nullable(Type.Number({ minimum: 0, maximum: 1, description: 'a fraction from 0 to 1' }), d(0.05), 'Candidate (5xx + transport errors) / requests above this breaches; null turns the rule off.'),
    maxP99Ms: nullable(Type.Number({ exclusiveMinimum: 0, description: 'milliseconds, above 0' }), d(5000), 'Candidate p99 above this many ms breaches; null turns the rule off.'),
    maxP99Ratio: nullable(Type.Number({ exclusiveMinimum: 0, description: 'a ratio above 0' }), d(null), "Candidate p99 above ratio × legacy's p99 breaches; null (default) turns it off."),
    maxErrorRateDelta: nullable(Type.Number({ minimum: 0, maximum: 1, description: 'a fraction from 0 to 1' }), d(null), "Candidate error rate minus legacy's above this breaches; null (default) turns it off."),
    maxMismatchRate: nullable(
      Type.Number({ minimum: 0, maximum: 1, description: 'a fraction from 0 to 1' }),
      d(null),
      'Shadowed comparisons that differ (mismatched / compared, learned noise excluded) above this breaches; judged only on routes with a shadow; null (default) turns it off.',
    ),
  };
  return withDefaults
    ? Type.Object(fields, { ...closed, default: {} })
    : Type.Partial(Type.Object(fields, closed));
};

const Confidence = Type.Number({ minimum: 0.5, exclusiveMaximum: 1, description: 'a probability from 0.5 to below 1, e.g. 0.999' });

const RouteGuard = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    minRequests: Type.Optional(Type.Integer({ minimum: 1 })),
    consecutive: Type.Optional(Type.Integer({ minimum: 1 })),
    confidence: Type.Optional(Confidence),
    dryRun: Type.Optional(Type.Boolean()),
    rules: Type.Optional(guardRules(false)),
  },
  { ...closed, description: "Per-route overrides of the global guard settings; absent fields follow guard's." },
);

export const Guard = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    intervalMs: Type.Integer({ minimum: 50, maximum: 60000, default: 500, description: 'How often the guard evaluates (ms).' }),
    windowSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 30, description: 'The stats window it judges (s).' }),
    fastWindowSeconds: Type.Union([Type.Integer({ minimum: 1, maximum: 3600, description: 'seconds' }), Type.Null()], {
      default: 5,
      description: 'A short recent window judged too, so that a sudden failure is not diluted by the long window; null judges windowSeconds only.',
    }),
    minRequests: Type.Integer({
      minimum: 1,
      default: 5,
      description: 'A floor: fewer judged candidate requests in a window and it is not judged (the confidence bounds decide above it).',
    }),
    confidence: { ...Confidence, default: 0.999, description: 'One-sided confidence of every verdict: a rule breaches only when the bound at this confidence is past its threshold.' },
    consecutive: Type.Integer({ minimum: 1, default: 1, description: 'Breaching evaluations in a row before it acts.' }),
    scope: Type.Union([Type.Literal('all'), Type.Literal('route')], {
      default: 'all',
      description: "all: a breach on any route reverts every route whose own guard is enabled and not a dry run; route: only that route.",
    }),
    revertOnSharedOutage: Type.Boolean({
      default: false,
      description: 'Revert even when legacy breaks the same absolute rule in the same window (a shared outage: network, a common database).',
    }),
    dryRun: Type.Boolean({ default: false, description: 'Detect and report ("would revert"), never act.' }),
    rules: guardRules(true),
    webhooks: Type.Array(Type.String({ description: 'http:// or https:// URL' }), { default: [], description: 'URLs that receive a JSON event on every guard decision.' }),
  },
  { ...closed, default: {}, description: 'Reverts every route (or the breaching one) to legacy when the candidate crosses a threshold.' },
);

const Percent = Type.Number({ exclusiveMinimum: 0, maximum: 100, description: 'a percentage above 0, at most 100' });

export const Ramp = Type.Object(
  {
    steps: Type.Optional(
      Type.Array(Percent, { minItems: 1, maxItems: 100, description: 'Candidate percentages to go through, strictly increasing, each in (0, 100], e.g. [5, 25, 50, 100].' }),
    ),
    stepWeight: Type.Optional({ ...Percent, description: 'Shorthand for steps: stepWeight, 2 × stepWeight, ... up to maxWeight (which it must land on exactly).' }),
    maxWeight: Type.Optional({ ...Percent, description: 'The last step of the stepWeight shorthand (default 100).' }),
    holdSeconds: Type.Integer({ minimum: 1, maximum: 604800, default: 300, description: 'How long each step holds at least; the next step also needs conclusive healthy evidence over the hold.' }),
    onBreach: Type.Union([Type.Literal('revert'), Type.Literal('pause')], {
      default: 'revert',
      description: 'A breach during the ramp: revert (to 0 %, the ramp ends failed) or pause (the step holds until a person resumes, promotes or aborts).',
    }),
    confirmWebhook: Type.Optional(Type.String({ description: 'http:// or https:// URL that must answer 2xx to a POST before each step is taken (a load test or change approval).' })),
  },
  { ...closed, description: 'A progressive ramp: one of steps or stepWeight (+ maxWeight). Started with POST /api/v1/ramp/start or cutover ramp start.' },
);

export const Route = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.-]+$', description: 'Unique route name: letters, digits, _ . -' }),
    match: Type.Object(
      {
        pathPrefix: Type.String({ pattern: '^/', default: '/', description: 'Plain string prefix of the request path, starting with /.' }),
        methods: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Z]+$' }), { minItems: 1, description: 'Upper-case HTTP methods.' })),
        headers: Type.Optional(
          Type.Record(Type.String(), Type.String(), { description: 'Request headers that must be present with exactly this value.' }),
        ),
      },
      { ...closed, default: {} },
    ),
    candidatePercent: Type.Number({ minimum: 0, maximum: 100, description: 'Share of requests sent to the candidate, 0..100; fractions allowed.' }),
    sticky: Type.Optional(Sticky),
    guard: Type.Optional(RouteGuard),
    ramp: Type.Optional(Ramp),
    shadow: Type.Optional(Shadow),
  },
  closed,
);

const ratioCriterion = (what: string) =>
  Type.Optional(Type.Number({ exclusiveMinimum: 0, description: `Candidate ${what} at most this × legacy's (0.1: ten times faster).` }));

export const Report = Type.Object(
  {
    confidence: Type.Number({ minimum: 0.5, exclusiveMaximum: 1, default: 0.99, description: 'One-sided confidence of each bound in the report (0.99: a 98 % two-sided interval).' }),
    criteria: Type.Object(
      {
        meanRatio: ratioCriterion('mean latency'),
        p50Ratio: ratioCriterion('p50'),
        p90Ratio: ratioCriterion('p90'),
        p95Ratio: ratioCriterion('p95'),
        p99Ratio: ratioCriterion('p99'),
        p999Ratio: ratioCriterion('p99.9'),
        maxErrorRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Candidate error rate at most this (a fraction).' })),
        maxErrorRateDelta: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "Candidate error rate minus legacy's at most this (a fraction)." })),
        maxMismatchRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Shadowed comparisons that differ at most this (a fraction; routes with a shadow only).' })),
      },
      { ...closed, default: {}, description: 'Success criteria the scorecard judges: met when the confidence bound says so, missed when the other bound says not.' },
    ),
  },
  { ...closed, default: {}, description: 'The migration scorecard (cutover report, GET /api/v1/report).' },
);

const OptionalHeader = (dflt: string, description: string) =>
  Type.Union([HeaderName, Type.Literal(false)], { default: dflt, description });

export const ConfigSchema = Type.Object(
  {
    listen: Type.Object(
      {
        host: Type.String({ minLength: 1, default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        clientSendTimeoutMs: Type.Integer({
          minimum: 1,
          default: 60000,
          description:
            "How long a client may leave a response unread before its connection is closed (ms), like nginx's send_timeout: the client's own limit, apart from the backends' timeouts.",
        }),
      },
      { ...closed, default: {}, description: 'Where the data plane (the proxy) listens.' },
    ),
    backends: Type.Object({ legacy: Backend, candidate: Backend }, closed),
    dns: Type.Optional(
      Type.Object(
        {
          servers: Type.Array(Type.String({ minLength: 1, description: 'an IP address with an optional port, e.g. 10.96.0.10:53' }), {
            minItems: 1,
            description: 'DNS servers that discovery asks for A and AAAA records, in order.',
          }),
        },
        { ...closed, description: "The resolver of backends.*.discovery; without it, the system's (getaddrinfo: /etc/hosts, resolv.conf and its search domains)." },
      ),
    ),
    routes: Type.Array(Route, {
      minItems: 1,
      // Matching is a linear scan per request; ten thousand routes is already far past any real use.
      maxItems: 10000,
      description: 'First match wins; the last route should catch everything. At most 10000.',
    }),
    overrideHeader: Type.Union([HeaderName, Type.Literal(false)], {
      default: false,
      description: 'Request header that forces legacy|candidate (off by default). Forced requests are counted apart and never judged by the guard.',
    }),
    overrideAuth: Type.Optional(
      Type.Object(
        {
          tokenFile: Type.Optional(
            Type.String({ minLength: 1, description: 'File holding a secret the override value must carry as `candidate; token=SECRET` (CUTOVER_OVERRIDE_TOKEN wins when set).' }),
          ),
          clients: Type.Optional(
            Type.Array(Type.String({ minLength: 1, description: 'an IP address or a CIDR block, e.g. 10.0.0.0/8' }), {
              minItems: 1,
              description: 'Client addresses (the TCP peer) allowed to use the override header.',
            }),
          ),
        },
        { ...closed, description: 'Who may use the override header; an override that does not qualify gets 403.' },
      ),
    ),
    servedByHeader: OptionalHeader('x-cutover-backend', 'Response header naming the backend that served; false disables it.'),
    stats: Type.Object(
      { windowSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 60, description: 'Length of the sliding stats window (s).' }) },
      { ...closed, default: {} },
    ),
    admin: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Serve the admin API, /metrics and the health probes.' }),
        host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'A non-loopback address requires an admin token.' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 9901 }),
        tokenFile: Type.Optional(Type.String({ minLength: 1, description: 'File holding the bearer token (CUTOVER_ADMIN_TOKEN wins when set).' })),
        protectMetrics: Type.Boolean({ default: false, description: 'Require the token for /metrics too.' }),
        readOnlyTokenFile: Type.Optional(
          Type.String({ minLength: 1, description: 'File holding a second bearer token that may read everything (the dashboard, status, history) and change nothing: its writes get 403 (CUTOVER_ADMIN_READONLY_TOKEN wins when set). Needs the admin token too.' }),
        ),
        dashboard: Type.Boolean({ default: true, description: 'Serve the live dashboard at GET /dashboard and its event stream at GET /api/v1/events.' }),
      },
      { ...closed, default: {}, description: 'The admin listener: never the data-plane port.' },
    ),
    state: Type.Object(
      {
        redis: Type.Optional(
          Type.Object(
            {
              url: Type.Optional(
                Type.String({ pattern: '^rediss?://', description: 'redis:// or rediss:// URL of the fleet store (CUTOVER_REDIS_URL wins when set)' }),
              ),
              key: Type.String({ pattern: '^[A-Za-z0-9_.:-]+$', default: 'cutover', description: 'Namespace of every key: one per migration sharing the Redis.' }),
              optional: Type.Boolean({
                default: false,
                description: 'Start even when Redis cannot be reached (on the local copy in state.file, degraded); false refuses to start (exit 2).',
              }),
              leaseTtlMs: Type.Integer({ minimum: 1000, maximum: 60000, default: 5000, description: 'The guard leader lease: another replica takes over within this when the leader dies.' }),
            },
            { ...closed, description: 'Fleet mode: every replica shares the control state and one guard through this Redis.' },
          ),
        ),
        file: Type.Optional(
          Type.String({ minLength: 1, description: 'Control state file; default cutover-state.json beside the config file. Relative paths are relative to the config file.' }),
        ),
      },
      { ...closed, default: {} },
    ),
    guard: Guard,
    report: Report,
    shutdownDrainSeconds: Type.Number({
      minimum: 0,
      maximum: 3600,
      default: 5,
      description:
        'On SIGTERM: how long the listener keeps accepting and serving, every response with Connection: close, while load balancers notice /readyz answering 503. 0: stop accepting at once.',
    }),
    workers: Type.Union([Type.Integer({ minimum: 0, maximum: 256, description: 'a whole number from 0 to 256' }), Type.Literal('auto')], {
      default: 0,
      description:
        "Data-plane processes behind one listener (node:cluster). 0 (default): one process, no cluster. N: a primary that owns the control state, the guard and the admin API, and N workers that serve traffic; 'auto': one per available CPU. With workers, SIGUSR2 (cutover restart) replaces them without dropping a connection.",
    }),
    shutdownGraceSeconds: Type.Number({ minimum: 0, maximum: 3600, default: 30, description: 'After the drain period: how long in-flight requests may take to finish.' }),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info' },
        ),
        accessLog: Type.Boolean({ default: false, description: 'One log line per request (costs throughput).' }),
        format: Type.Optional(
          Type.Union([Type.Literal('pretty'), Type.Literal('json')], {
            description: 'pretty: one readable line per event (default when stderr is a terminal); json: one JSON object per line (the default otherwise).',
          }),
        ),
      },
      { ...closed, default: {} },
    ),
  },
  { ...closed, $id: 'https://cutover.dev/cutover.schema.json', title: 'cutover configuration' },
);

export type Config = Static<typeof ConfigSchema>;
export type RouteConfig = Static<typeof Route>;
export type BackendConfig = Static<typeof Backend>;
export type OutlierConfig = Static<typeof OutlierDetection>;
export type DiscoveryConfig = Static<typeof Discovery>;
export type GuardConfig = Static<typeof Guard>;
export type RampConfig = Static<typeof Ramp>;
export type ReportConfig = Static<typeof Report>;
export { BACKENDS, type BackendName } from './names.js';
