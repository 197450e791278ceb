import { loadOpsSession } from '#lib/ops-session.ts';

import type { PageLoad } from './$types';

export const ssr = false;

export const load: PageLoad = async ({ fetch, url }) => ({
  session: await loadOpsSession(fetch, url),
  rejectionId: /^[1-9]\d{0,17}$/.test(url.searchParams.get('rejection') ?? '')
    ? url.searchParams.get('rejection')
    : null,
});
