import { redirect } from '@sveltejs/kit';

import { fetchSession, knownSignedOut, safeNext } from '#lib/session.ts';

import type { PageLoad } from './$types';

export const ssr = false;

/**
 * Already signed in (or a set-up display): straight on to where the browser was going. Not asked
 * again when the page that sent the browser here was just told nobody is signed in.
 */
export const load: PageLoad = async ({ fetch, url }) => {
  const next = safeNext(url.searchParams.get('next'));
  if (knownSignedOut()) return { next };
  const session = await fetchSession(fetch).catch(() => null);
  if (session) redirect(307, next);
  return { next };
};
