import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';

import { ReportState } from './report.svelte.ts';

type Window = { from?: string; to?: string; limit: number; offset: number };

/** A report of `total` numbered rows that records each page asked for. */
function numbered(total: number) {
  const asked: Window[] = [];
  const report = new ReportState<number>((window) => {
    asked.push(window);
    const items = Array.from({ length: total }, (_, i) => i).slice(
      window.offset,
      window.offset + window.limit,
    );
    return Promise.resolve({ total, items });
  }, 10);
  return { report, asked };
}

describe('a compliance report on screen', () => {
  it('reads every page up to the instant the search started', async () => {
    const { report, asked } = numbered(25);

    await report.search();
    await report.load(report.offset + report.limit);
    await report.load(report.offset + report.limit);

    expect(asked.map((window) => window.offset)).toEqual([0, 10, 20]);
    expect(new Set(asked.map((window) => window.to)).size).toBe(1);
    expect(asked[0]!.to).toBeDefined();
    expect(report.items).toEqual([20, 21, 22, 23, 24]);
    expect(report.hasNext).toBe(false);
    expect(report.hasPrevious).toBe(true);
  });

  it('sends the range the officer typed as instants', async () => {
    const { report, asked } = numbered(0);
    report.from = '2026-12-01T08:00';
    report.to = '2026-12-02T08:00';

    await report.search();

    expect(asked[0]).toMatchObject({
      from: new Date('2026-12-01T08:00').toISOString(),
      to: new Date('2026-12-02T08:00').toISOString(),
    });
    expect(report.searched).toBe(true);
    expect(report.total).toBe(0);
  });

  it('says plainly when the server refuses, and shows nothing', async () => {
    const report = new ReportState<number>(() =>
      Promise.reject(
        TRPCClientError.from({
          error: { code: -32603, message: 'x', data: { code: 'FORBIDDEN' } },
        }),
      ),
    );

    await report.search();

    expect(report.problem).toBe('Not allowed: these views are for compliance officers.');
    expect(report.items).toEqual([]);
  });
});
