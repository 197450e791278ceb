import { redirect } from '@sveltejs/kit';

import { boardPath, fetchSession, loginPath, type Session } from './session.ts';

/**
 * The operations pages need a signed-in person: without a session, the sign-in page (and back
 * here after); a wall display goes to its board. Whether the person's role allows the page is
 * the server's answer to the page's first request, shown by the page itself.
 */
export async function loadOpsSession(
  fetchFn: typeof fetch,
  url: URL,
): Promise<Extract<Session, { kind: 'user' }>> {
  const session = await fetchSession(fetchFn).catch(() => undefined);
  if (session === null || session === undefined) {
    redirect(307, loginPath(url.pathname + url.search));
  }
  if (session.kind === 'device') redirect(307, boardPath(session.board));
  return session;
}
