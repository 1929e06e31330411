// The config schema of one backend cluster: its upstreams, timeouts, outlier detection and DNS
// discovery (part of the one schema in schema.ts, which re-exports these).
import { Type } from '@sinclair/typebox';

export const closed = { additionalProperties: false } as const;

export const HeaderName = Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$', description: 'an HTTP header name' });

export const Timeouts = Type.Object(
  {
    connectMs: Type.Integer({ minimum: 1, default: 2000, description: 'TCP connect timeout to one upstream node (ms).' }),
    responseMs: Type.Integer({
      minimum: 1,
      default: 30000,
      description:
        'Time from dispatch to the upstream response headers, and the longest pause between body chunks (ms). Past it the client gets a 504. (A client that reads slowly has its own limit, listen.clientSendTimeoutMs.)',
    }),
  },
  { ...closed, default: {} },
);

const threshold = (dflt: number, what: string) =>
  Type.Union([Type.Integer({ minimum: 1, description: 'a whole number, 1 or more' }), Type.Null()], {
    default: dflt,
    description: `${what} in a row on one node before it is ejected; null turns the rule off.`,
  });

export const OutlierDetection = Type.Object(
  {
    consecutiveGatewayFailure: threshold(3, 'Gateway failures (connection refused, reset or timed out; 502, 503, 504 from the node)'),
    consecutive5xx: threshold(5, 'Responses with a 5xx status (or transport failures)'),
    baseEjectionMs: Type.Integer({
      minimum: 1,
      default: 1000,
      description: "How long a node's first ejection lasts (ms); the n-th lasts n times as long, up to maxEjectionMs.",
    }),
    maxEjectionMs: Type.Integer({
      minimum: 1,
      default: 30000,
      description: 'The longest ejection (ms, at least baseEjectionMs); the ejection count also decays by one per maxEjectionMs without an ejection.',
    }),
    maxEjectionPercent: Type.Number({
      minimum: 0,
      maximum: 100,
      default: 50,
      description: 'At most this share of the nodes is ejected at once (rounded down; a single node is never ejected). Further detections are counted, not enforced.',
    }),
    enforcing: Type.Boolean({ default: true, description: 'false: a dry run; detect, log and count ejections, never take a node out.' }),
  },
  { ...closed, default: {}, description: 'Passive health of the nodes: a node that keeps failing is taken out of the round robin for a while.' },
);

export const Discovery = Type.Object(
  {
    type: Type.Literal('dns', { description: 'dns: every A and AAAA record of each upstream name is a node.' }),
    refreshSeconds: Type.Number({ minimum: 1, maximum: 300, default: 5, description: 'How often each name is resolved again (s); 5 matches CoreDNS\'s default TTL.' }),
    jitter: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.1,
      description: 'Each wait is refreshSeconds × (1 + a random share of jitter), so that replicas do not query in step.',
    }),
    optional: Type.Boolean({
      default: false,
      description: 'Start even when a name does not resolve (degraded, retrying every refresh); false refuses to start (exit 2).',
    }),
  },
  {
    ...closed,
    description:
      'Resolve each upstream name to all its addresses, each one a node balanced and ejected on its own (a headless Service: one node per pod). A failed or empty lookup keeps the last known addresses and marks the cluster degraded.',
  },
);

export const Backend = Type.Object(
  {
    upstreams: Type.Array(Type.String({ description: 'http:// or https:// origin of one node, e.g. http://10.0.0.5:8080' }), {
      minItems: 1,
      description: 'The nodes of this cluster; requests are balanced round robin across them. With discovery, each name stands for all its addresses.',
    }),
    timeouts: Timeouts,
    outlierDetection: OutlierDetection,
    discovery: Type.Optional(Discovery),
  },
  closed,
);
