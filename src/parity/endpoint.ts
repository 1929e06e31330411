// Endpoint keys for parity figures: the method and a path template in which identifiers are
// collapsed to `:id`, so that /orders/17 and /orders/18 are one endpoint and the number of
// endpoints stays bounded whatever the traffic. Pure.

const DIGITS = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Long hex (object ids, hashes): 16 hex digits or more, with at least one digit among them. */
const LONG_HEX = /^(?=.*\d)[0-9a-f]{16,}$/i;

/** Where endpoints past the cap are counted. */
export const OTHER_ENDPOINT = 'other';

/** `GET`, `/orders/17/items/5f1d7c0e9a3b2c4d5e6f7a8b?x=1` → `GET /orders/:id/items/:id` */
export function endpointTemplate(method: string, path: string): string {
  const q = path.indexOf('?');
  const bare = q === -1 ? path : path.slice(0, q);
  const segments = bare.split('/').map((s) => (DIGITS.test(s) || UUID.test(s) || LONG_HEX.test(s) ? ':id' : s));
  return `${method.toUpperCase()} ${segments.join('/') || '/'}`;
}

/** The endpoints of one route, at most `max` of them; later ones are `other`. */
export class EndpointKeys {
  private readonly known = new Set<string>();

  constructor(readonly max = 100) {}

  key(method: string, path: string): string {
    return this.admit(endpointTemplate(method, path));
  }

  /** A template as it is counted: itself while there is room (or it is known), else `other`. */
  admit(template: string): string {
    if (this.known.has(template)) return template;
    if (this.known.size >= this.max) return OTHER_ENDPOINT;
    this.known.add(template);
    return template;
  }

  get size(): number {
    return this.known.size;
  }
}
