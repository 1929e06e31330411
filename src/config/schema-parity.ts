// The config of a route's shadow and its comparison, as TypeBox definitions, for the config owner
// to add as `shadow: Type.Optional(Shadow)` in config/schema.ts's Route.
import { Type, type Static } from '@sinclair/typebox';

const closed = { additionalProperties: false } as const;
const HeaderName = Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$', description: 'an HTTP header name' });
const Pointer = Type.String({ pattern: '^(/.*)?$', description: 'a JSON Pointer (RFC 6901), * for any array element or object key, e.g. /items/*/updatedAt' });

export const Compare = Type.Object(
  {
    headers: Type.Array(HeaderName, { default: ['content-type'], description: 'Response headers compared (names case-insensitive).' }),
    ignore: Type.Array(Pointer, { default: [], description: 'JSON body places left out of the comparison.' }),
    unordered: Type.Union([Type.Array(Pointer), Type.Boolean()], { default: false, description: 'Arrays compared as multisets: these pointers, or every array (true).' }),
    numericTolerance: Type.Object(
      {
        absolute: Type.Number({ minimum: 0, default: 0, description: 'Numbers at most this far apart are equal.' }),
        relative: Type.Number({ minimum: 0, default: 0, description: 'Numbers apart by at most this share of the larger are equal.' }),
      },
      { ...closed, default: {} },
    ),
  },
  { ...closed, default: {}, description: 'How a shadow answer is compared with the primary: status, these headers, the body (structurally when both are JSON).' },
);

export const Shadow = Type.Object(
  {
    percent: Type.Number({ minimum: 0, maximum: 100, default: 0, description: 'Share of requests copied to the other cluster, 0..100; fractions allowed. PUT /api/v1/shadow changes it at run time (persisted).' }),
    methods: Type.Array(Type.String({ pattern: '^[A-Z]+$' }), { default: ['GET', 'HEAD'], minItems: 1, description: 'Methods copied; any other than GET and HEAD means writes reach both systems.' }),
    maxBodyBytes: Type.Integer({ minimum: 0, default: 1048576, description: 'Request bodies are teed up to this; past it the copy is skipped (the primary streams as before).' }),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, description: "The shadow request's whole time (ms); default the other backend's responseMs." })),
    maxInFlight: Type.Integer({ minimum: 1, default: 64, description: 'Shadow requests open at once; past it a copy is dropped and counted.' }),
    header: Type.Object(
      { name: HeaderName, value: Type.String() },
      { ...closed, default: { name: 'x-cutover-shadow', value: '1' }, description: 'Carried by every shadow request, so a backend can suppress side effects.' },
    ),
    compare: Compare,
    noise: Type.Object(
      { percent: Type.Number({ minimum: 0, maximum: 100, default: 0, description: 'Share of shadowed requests also sent to legacy a second time: what differs between the two legacy answers is learned as noise and never counts as a mismatch.' }) },
      { ...closed, default: {} },
    ),
    redact: Type.Array(Type.String({ minLength: 0 }), { default: [], description: 'JSON Pointers and header names never shown in samples nor in captured cases (authorization and cookie always are).' }),
  },
  { ...closed, description: 'Copy a share of requests to the other cluster and compare the answers (parity).' },
);

export type ShadowConfig = Static<typeof Shadow>;
export type CompareConfig = Static<typeof Compare>;
