/**
 * Takes the README screenshots of the wall board: docs/screenshots/board-1080p.png and
 * board-4k.png, both of the first page, with the board live.
 *
 *   npx tsx scripts/screenshots.ts --display <link>   # a running stack: the display link
 *                                                     # `npm start` printed (…/device/<token>)
 *   npx tsx scripts/screenshots.ts --demo             # a throwaway demo stack
 *
 * A running stack is `npm start` (the demo hospital with the ADT simulator). --demo instead
 * starts the server with the web build (run `npm run build:web` first) on a fresh test
 * database, seeds the same demo hospital, shoots, and drops the database again.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { repoRoot } from '@medaxis/db/testing';

import { launchChromium } from '../tests/browser/chromium.ts';
import { startStack, type Stack } from '../tests/support/stack.ts';
// The demo hospital `npm start` seeds (config/hospital.json); @medaxis/cli exports no API yet.
import { seedDemoHospital } from '../packages/cli/src/seed/index.ts';

const shots = [
  { file: 'board-1080p.png', width: 1920, height: 1080 },
  { file: 'board-4k.png', width: 3840, height: 2160 },
];

const { values } = parseArgs({
  options: {
    /** A display link (device token): the board needs one, or a session, to show anything. */
    display: { type: 'string' },
    demo: { type: 'boolean', default: false },
    out: { type: 'string', default: join(repoRoot, 'docs/screenshots') },
  },
});

let stack: Stack | undefined;
let displayLink = values.display;
if (values.demo) {
  stack = await startStack({ web: true });
  const demo = await seedDemoHospital(stack.database.db);
  displayLink = `${stack.baseUrl}/device/${await stack.deviceToken()}`;
  console.log(`demo hospital: ${demo.beds} beds`);
}
if (!displayLink) throw new Error('pass --display <the display link npm start printed>, or --demo');
// The device cookie belongs to the link's host (localhost is not 127.0.0.1 to a browser).
const baseUrl = new URL(displayLink).origin;

const browser = await launchChromium();
try {
  await mkdir(values.out, { recursive: true });
  for (const shot of shots) {
    const page = await browser.newPage({
      viewport: { width: shot.width, height: shot.height },
      deviceScaleFactor: 1,
    });
    // The display link stores the device token, as on a wall display.
    await page.goto(displayLink);
    await page.locator('[data-connection]').waitFor({ timeout: 20_000 });
    // Hold page 1 so both pictures show the same departments.
    await page.goto(`${baseUrl}/board?page=1`);
    await page.locator('[data-connection="live"]').waitFor({ timeout: 20_000 });
    await page.locator('[data-bed-code]').first().waitFor();
    await page.waitForTimeout(1_000);
    const path = join(values.out, shot.file);
    await page.screenshot({ path });
    console.log(`wrote ${path}`);
    await page.close();
  }
} finally {
  await browser.close();
  await stack?.stop();
}
