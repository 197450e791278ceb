import { redirect } from '@sveltejs/kit';

import { boardPath, fetchSession, loginPath } from '#lib/session.ts';

import type { LayoutLoad } from './$types';

// Audit views are read live from the server; nothing is rendered ahead.
export const ssr = false;

/** The compliance views need a signed-in person; a wall display goes back to its board. */
export const load: LayoutLoad = async ({ fetch, url }) => {
  const session = await fetchSession(fetch);
  if (session === null) redirect(307, loginPath(url.pathname + url.search));
  if (session.kind === 'device') redirect(307, boardPath(session.board));
  return { session };
};
