import { describe, expect, it } from 'vitest';

import { ImportRejectionsState, parseEditedRow } from './import-rejections.svelte.ts';
import type { OpsClient } from './ops-api.ts';

const stored = { department: 'ICU', kind: 'intensive', room: '1', bed: 'ICU-1' };

/** A server holding one open locations rejection; reprocessing answers `answer`. */
function serverWith(answer: Record<string, unknown>) {
  const sent: unknown[] = [];
  const rejection = (id: string) => ({
    id,
    kind: 'locations',
    runId: 1,
    file: 'wards.csv',
    rowNumber: 2,
    code: 'bad_kind',
    reason: 'The kind is none of …',
    attempt: 1,
    reprocessOf: null,
    keptAt: '2026-12-04T07:00:00.000Z',
    reprocessable: true,
    row: stored,
    rowShown: true,
    reprocessedAt: null,
    outcome: null,
    reprocessedBy: null,
    appliedRow: null,
    retryId: null,
  });
  const client = {
    imports: {
      rejections: {
        query: () => Promise.resolve({ counts: { locations: 1 }, rejections: [rejection('5')] }),
      },
      rejection: { query: ({ id }: { id: string }) => Promise.resolve(rejection(id)) },
      reprocess: {
        mutate: (input: unknown) => {
          sent.push(input);
          return Promise.resolve(answer);
        },
      },
    },
  } as unknown as OpsClient;
  return { client, sent };
}

describe('import rejections view', () => {
  it('reads an empty edit box as the stored row and refuses what is no JSON object', () => {
    expect(parseEditedRow('  ')).toEqual({ row: undefined });
    expect(parseEditedRow('{"a": "b"}')).toEqual({ row: { a: 'b' } });
    expect(parseEditedRow('[1]')).toEqual({ problem: 'The edited row must be a JSON object.' });
    expect(parseEditedRow('{"a":')).toMatchObject({ problem: /not valid JSON/ });
  });

  it('sends the stored row as stored, and an edited one as the edit', async () => {
    const { client, sent } = serverWith({ status: 'applied', edited: false });
    const view = new ImportRejectionsState(client);
    await view.show('5');

    await view.reprocess();
    view.edit = JSON.stringify({ ...stored, kind: 'icu' });
    await view.reprocess();

    expect(sent).toEqual([{ id: '5' }, { id: '5', row: { ...stored, kind: 'icu' } }]);
  });

  it('opens the new rejection with its reason when the row is rejected again', async () => {
    const { client } = serverWith({
      status: 'rejected',
      code: 'missing_room',
      reason: 'A bed needs its room.',
      retryId: '9',
    });
    const view = new ImportRejectionsState(client);
    await view.show('5');

    await view.reprocess();

    expect(view.open?.id).toBe('9');
    expect(view.notice).toEqual({
      kind: 'problem',
      text: 'Rejected again: missing_room: A bed needs its room. (kept as rejection 9).',
    });
  });

  it('says what is wrong with an edit that is no JSON, sending nothing', async () => {
    const { client, sent } = serverWith({ status: 'applied' });
    const view = new ImportRejectionsState(client);
    await view.show('5');
    view.edit = '{"department": ';

    await view.reprocess();

    expect(sent).toEqual([]);
    expect(view.notice?.text).toMatch(/not valid JSON/);
  });
});
