/**
 * Does a wall board's memory grow as it runs? Two boards in real Chromium, through the real
 * server: a busy one (the whole hospital, getting every event) and, as the floor, an idle one
 * (a department no event touches, getting only heartbeats) over the same minutes. Events are
 * real bed commands committed at `--rate` per second; every `--sample-seconds` both pages are
 * garbage-collected (CDP HeapProfiler.collectGarbage) and their JS heap and DOM node count read.
 *
 *   npm run bench:board-soak -- [--minutes 5] [--rate 20] [--sample-seconds 30]
 *
 * At 20 events/s, 5 minutes are 6,000 events: more than a 300-bed hospital's ADT and
 * housekeeping feed brings in a day. Needs `npm run build:web` and Debian's Chromium.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import { executeCommand } from '@medaxis/db';
import { repoRoot } from '@medaxis/db/testing';
import { liveCommandOptions } from '@medaxis/domain';
import type { CDPSession, Page } from 'playwright-core';

import { launchChromium } from '../tests/browser/chromium.ts';
import { newDisplayPage } from '../tests/browser/display.ts';
import { seedSmallHospital } from '../tests/support/fixtures.ts';
import { startStack } from '../tests/support/stack.ts';

const { values: flags } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    rate: { type: 'string', default: '20' },
    'sample-seconds': { type: 'string', default: '30' },
  },
});
const minutes = Number(flags.minutes);
const rate = Number(flags.rate);
const sampleSeconds = Number(flags['sample-seconds']);

interface Sample {
  atSeconds: number;
  events: number;
  heapMiB: number;
  nodes: number;
}

async function measure(cdp: CDPSession): Promise<{ heapMiB: number; nodes: number }> {
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  const dom = await cdp.send('Memory.getDOMCounters');
  return { heapMiB: heap.usedSize / 2 ** 20, nodes: dom.nodes };
}

/** Least-squares slope of heap against events, in KiB per 1,000 events. */
function slopeKiBPer1000(samples: Sample[]): number {
  const n = samples.length;
  const mx = samples.reduce((sum, s) => sum + s.events, 0) / n;
  const my = samples.reduce((sum, s) => sum + s.heapMiB, 0) / n;
  const sxy = samples.reduce((sum, s) => sum + (s.events - mx) * (s.heapMiB - my), 0);
  const sxx = samples.reduce((sum, s) => sum + (s.events - mx) ** 2, 0);
  return sxx === 0 ? 0 : (sxy / sxx) * 1024 * 1000;
}

async function run() {
  if (!existsSync(join(repoRoot, 'apps/web/build/handler.js'))) {
    throw new Error('apps/web/build is missing: run `npm run build:web` first');
  }
  const stack = await startStack({ web: true });
  const browser = await launchChromium();
  try {
    const hospital = await seedSmallHospital(stack.database.db);
    const open = async (path: string, board: string | null): Promise<Page> => {
      const page = await newDisplayPage(browser, stack, { width: 1920, height: 1080 }, board);
      await page.goto(`${stack.baseUrl}${path}`);
      await page.locator('[data-connection="live"]').waitFor({ timeout: 30_000 });
      return page;
    };
    const busy = await open('/board', null);
    const idle = await open('/board/SUR', 'SUR');
    const cdp = {
      busy: await busy.context().newCDPSession(busy),
      idle: await idle.context().newCDPSession(idle),
    };

    // Events only on ED and MED beds: the SUR board sees none of them.
    const beds = Object.entries(hospital.beds)
      .filter(([code]) => !code.startsWith('SUR'))
      .map(([, id]) => id);
    const isolated = new Set<number>();
    let events = 0;
    let lastEventId = '0';
    const commitOne = async () => {
      const bedId = beds[events % beds.length]!;
      const isolation = !isolated.has(bedId);
      if (isolation) isolated.add(bedId);
      else isolated.delete(bedId);
      const at = new Date();
      const result = await executeCommand(
        stack.database.db,
        { type: 'set-isolation', bedId, isolation, at },
        { source: 'bench', options: liveCommandOptions(at) },
      );
      lastEventId = result.eventId;
      events++;
    };

    const samples = { busy: [] as Sample[], idle: [] as Sample[] };
    const started = Date.now();
    const sample = async () => {
      // The busy board must have caught up before it is measured.
      const deadline = Date.now() + 30_000;
      while (
        (await busy.locator('[data-connection]').getAttribute('data-last-event-id')) !== lastEventId
      ) {
        if (Date.now() > deadline) throw new Error(`the busy board fell behind ${lastEventId}`);
        await sleep(100);
      }
      const atSeconds = Math.round((Date.now() - started) / 1000);
      for (const which of ['busy', 'idle'] as const) {
        samples[which].push({ atSeconds, events, ...(await measure(cdp[which])) });
      }
    };

    // Warm-up: the first events compile and fill caches; measure growth after them.
    for (let i = 0; i < 200; i++) await commitOne();
    await sample();
    const end = started + minutes * 60_000;
    let nextSample = Date.now() + sampleSeconds * 1000;
    while (Date.now() < end) {
      const tick = Date.now();
      await commitOne();
      const wait = 1000 / rate - (Date.now() - tick);
      if (wait > 0) await sleep(wait);
      if (Date.now() >= nextSample) {
        await sample();
        nextSample = Date.now() + sampleSeconds * 1000;
      }
    }
    await sample();

    const row = (which: 'busy' | 'idle') => {
      const list = samples[which];
      const first = list[0]!;
      const last = list.at(-1)!;
      return {
        first,
        last,
        growthMiB: last.heapMiB - first.heapMiB,
        maxMiB: Math.max(...list.map((s) => s.heapMiB)),
        slope: slopeKiBPer1000(list),
      };
    };
    const busyRow = row('busy');
    const idleRow = row('idle');
    const fmt = (value: number, digits = 2) => value.toFixed(digits);
    console.log('## Wall board soak: memory of a busy board against an idle one');
    console.log();
    console.log(`- date: ${new Date().toISOString()}; ${minutes} min at ${rate} events/s`);
    console.log(`- events after warm-up: ${busyRow.last.events - busyRow.first.events}`);
    console.log();
    console.log(
      '| board | heap first MiB | heap last MiB | max MiB | growth MiB | KiB / 1,000 events | ' +
        'DOM nodes first → last |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const [name, r] of [
      ['busy: /board, every event', busyRow],
      ['floor, idle: /board/SUR, heartbeats only', idleRow],
    ] as const) {
      console.log(
        `| ${name} | ${fmt(r.first.heapMiB)} | ${fmt(r.last.heapMiB)} | ${fmt(r.maxMiB)} | ` +
          `${fmt(r.growthMiB)} | ${fmt(r.slope, 1)} | ${r.first.nodes} → ${r.last.nodes} |`,
      );
    }
    console.log();
    console.log('samples (s, events, busy MiB, idle MiB):');
    for (const [index, s] of samples.busy.entries()) {
      console.log(
        `  ${s.atSeconds}\t${s.events}\t${fmt(s.heapMiB)}\t${fmt(samples.idle[index]!.heapMiB)}`,
      );
    }
  } finally {
    await browser.close();
    await stack.stop();
  }
}

await run();
