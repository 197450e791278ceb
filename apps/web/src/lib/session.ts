import { rememberSiteTimeZone } from './site-zone.ts';

/**
 * Sign-in, sign-out and display setup against the server's /auth routes (apps/server
 * src/auth). The session and device tokens live in HttpOnly cookies: this code never sees them.
 */

export type Session =
  | {
      kind: 'user';
      username: string;
      roles: string[];
      departments: string[] | '*';
      expiresAt: string | null;
      /** The hospital's time zone, which every page shows times in. */
      siteTimeZone?: string | null;
    }
  | { kind: 'device'; label: string; board: string | null };

export type Outcome<T = object> = ({ ok: true } & T) | { ok: false; message: string };

type Fetch = typeof fetch;

/**
 * Set when the server last answered that nobody is signed in, until a sign-in or a display's
 * setup in this page. The sign-in page then need not ask again: the board that sent the browser
 * there just did, and each refused probe is a 401 in the browser's console.
 */
let signedOut = false;

/** Who this browser is: a signed-in user, a wall display, or null when neither. */
export async function fetchSession(fetchFn: Fetch = fetch): Promise<Session | null> {
  const response = await fetchFn('/auth/session', { headers: { accept: 'application/json' } });
  signedOut = response.status === 401;
  if (response.status === 401) return null;
  if (!response.ok) throw new Error(`session check answered ${response.status}`);
  const session = (await response.json()) as Session;
  // Pages load the session before they render: their times are then in the hospital's zone.
  if (session.kind === 'user' && session.siteTimeZone) rememberSiteTimeZone(session.siteTimeZone);
  return session;
}

/** Whether this page has just been told that nobody is signed in. */
export function knownSignedOut(): boolean {
  return signedOut;
}

export async function signIn(
  username: string,
  password: string,
  fetchFn: Fetch = fetch,
): Promise<Outcome> {
  const response = await post(fetchFn, '/auth/login', { username, password });
  if (response.ok) {
    signedOut = false;
    return { ok: true };
  }
  return { ok: false, message: await refusal(response) };
}

export async function signOut(fetchFn: Fetch = fetch): Promise<void> {
  await post(fetchFn, '/auth/logout', undefined);
}

/** Stores a display's device token (as an HttpOnly cookie, set by the server). */
export async function setUpDevice(
  token: string,
  fetchFn: Fetch = fetch,
): Promise<Outcome<{ board: string | null; label: string }>> {
  const response = await post(fetchFn, '/auth/device', { token });
  if (!response.ok) return { ok: false, message: await refusal(response) };
  signedOut = false;
  const body = (await response.json()) as { board: string | null; label: string };
  return { ok: true, board: body.board, label: body.label };
}

/** The board a display is bound to. */
export function boardPath(board: string | null): string {
  return board === null ? '/board' : `/board/${encodeURIComponent(board)}`;
}

/**
 * Where to go after signing in: a path on this site, never another site (`//evil.example`,
 * `https://…`), so the sign-in page cannot be used to send someone elsewhere.
 */
export function safeNext(next: string | null): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/board';
  return next;
}

/**
 * Where a person lands after signing in without a page in mind (`next` is the default
 * `/board`): a compliance officer, who may not see the board, goes to the audit views.
 */
export function landingPath(session: Session | null, next: string): string {
  if (next !== '/board' || session?.kind !== 'user') return next;
  const officer = session.roles.includes('compliance_officer');
  const boardRoles = ['admin', 'bed_manager', 'charge_nurse', 'clinician'];
  return officer && !session.roles.some((role) => boardRoles.includes(role)) ? '/audit' : next;
}

export function loginPath(next: string): string {
  return `/login?next=${encodeURIComponent(safeNext(next))}`;
}

function post(fetchFn: Fetch, path: string, body: unknown) {
  return fetchFn(path, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** The server's message for a refusal (already worded for people), or a generic one. */
async function refusal(response: Response): Promise<string> {
  const body = (await response.json().catch(() => null)) as {
    error?: { message?: unknown };
  } | null;
  const message = body?.error?.message;
  if (typeof message === 'string' && response.status < 500) return message;
  return 'The server could not be reached. Try again in a moment.';
}

/** Svelte context key under which the board's layout hands down the current session. */
export const sessionContext = Symbol('medaxis session');
export type SessionContext = () => Session | null;
