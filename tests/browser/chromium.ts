import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium with the flags verified on these machines (STACK.md "Browser tests").
 * Playwright's own browser download is not reachable here: never `npx playwright install`.
 */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: chromiumArgs,
  });
}
