import { redirect } from '@sveltejs/kit';

import { boardPath, fetchSession, loginPath } from '#lib/session.ts';

import type { LayoutLoad } from './$types';

// The board is live data only: it renders in the browser from the snapshot and the stream.
export const ssr = false;

/**
 * The board needs a session or a device token; without either, the sign-in page. A display
 * bound to one department opens that department's board. When the server cannot be reached the
 * board loads anyway: it shows itself offline and recovers by itself, an error page would not.
 */
export const load: LayoutLoad = async ({ fetch, url }) => {
  const session = await fetchSession(fetch).catch(() => undefined);
  if (session === null) redirect(307, loginPath(url.pathname + url.search));
  if (session?.kind === 'device' && session.board !== null) {
    const own = boardPath(session.board);
    if (url.pathname !== own) redirect(307, own + url.search);
  }
  return { session: session ?? null };
};
