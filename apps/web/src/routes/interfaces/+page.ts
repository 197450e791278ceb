import { loadOpsSession } from '#lib/ops-session.ts';

import type { PageLoad } from './$types';

export const ssr = false;

export const load: PageLoad = async ({ fetch, url }) => ({
  session: await loadOpsSession(fetch, url),
  messageId: /^\d{1,19}$/.test(url.searchParams.get('message') ?? '')
    ? url.searchParams.get('message')
    : null,
});
