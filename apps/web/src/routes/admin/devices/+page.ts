import { loadOpsSession } from '#lib/ops-session.ts';

import type { PageLoad } from './$types';

export const ssr = false;

export const load: PageLoad = async ({ fetch, url }) => ({
  session: await loadOpsSession(fetch, url),
});
