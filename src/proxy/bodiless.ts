// 204 and 304 responses never have content (RFC 9110 section 6.4.1), yet a 304 may carry the
// Content-Length of the representation it stands for (RFC 9110 section 8.6). undici 7 compares that
// Content-Length with the 0 bytes it read and fails the request with
// UND_ERR_RES_CONTENT_LENGTH_MISMATCH after the headers were delivered (client-h1.js
// onMessageComplete exempts HEAD, not 304), so the client used to get nothing at all. The response
// was complete: it is finished normally.
export function completeWithoutBody(status: number, err: unknown): boolean {
  return (status === 304 || status === 204) && (err as { code?: string } | null)?.code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH';
}
