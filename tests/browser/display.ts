import type { Browser, Page } from 'playwright-core';

import type { Stack } from '../support/stack.ts';

/**
 * A page of a wall display: a browser holding a device token for `board` (a department code,
 * or null for the whole hospital), as the setup link /device/<token> leaves it.
 */
export async function newDisplayPage(
  browser: Browser,
  stack: Pick<Stack, 'baseUrl' | 'deviceToken'>,
  viewport: { width: number; height: number },
  board: string | null = null,
): Promise<Page> {
  const page = await browser.newPage({ viewport });
  const token = await stack.deviceToken(board);
  await page
    .context()
    .addCookies([
      { name: 'medaxis_device', value: token, url: stack.baseUrl, httpOnly: true, sameSite: 'Lax' },
    ]);
  return page;
}
