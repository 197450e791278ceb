import type { IncomingHttpHeaders } from 'node:http';

/**
 * True when a browser sent this request from another origin: the Origin header names a
 * different host (or is "null", as from a sandboxed frame or a cross-site redirect), or,
 * without Origin, Fetch Metadata says the request is cross-site. Requests from programs
 * (curl, the tRPC client in Node) carry neither and pass: they hold no victim's cookie.
 *
 * With SameSite=Lax cookies a cross-site POST already arrives without the session; this check
 * also stops a sibling site (same site, other origin) and websocket hijacking, since browsers
 * send cookies with a cross-origin websocket handshake.
 */
export function isCrossOrigin(headers: IncomingHttpHeaders, host: string | undefined): boolean {
  const origin = headers.origin;
  if (origin !== undefined) {
    if (origin === 'null' || !host) return true;
    try {
      return new URL(origin).host.toLowerCase() !== host.toLowerCase();
    } catch {
      return true;
    }
  }
  const site = headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

/** Methods that change nothing: they need no origin check (tRPC never mutates on GET). */
export function isSafeMethod(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}
