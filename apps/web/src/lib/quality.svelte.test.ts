import type { QualityCheck, QualityItem } from '@medaxis/api';
import { describe, expect, it } from 'vitest';

import type { OpsClient } from './ops-api.ts';
import { QualityState } from './quality.svelte.ts';

/** A client whose item queries wait until the test releases them, in any order. */
function slowClient() {
  const pending = new Map<QualityCheck, (items: QualityItem[]) => void>();
  const client = {
    quality: {
      items: {
        query: ({ check }: { check: QualityCheck }) =>
          new Promise((resolve) => {
            pending.set(check, (items) => resolve({ check, items }));
          }),
      },
    },
  } as unknown as OpsClient;
  return {
    client,
    release: (check: QualityCheck, items: QualityItem[]) => pending.get(check)!(items),
  };
}

const location = (code: string): QualityItem => ({
  check: 'unconfigured_locations',
  kind: 'bed',
  code,
  name: null,
  departmentCode: 'NEW',
  roomCode: '01',
});

describe('data-quality drill-down', () => {
  it('stays loading until the answer for the check chosen last arrives', async () => {
    const { client, release } = slowClient();
    const view = new QualityState(client);

    const first = view.drill('rejected_messages');
    const second = view.drill('unconfigured_locations');
    release('rejected_messages', []);
    await first;
    expect(view.loadingItems).toBe(true);
    release('unconfigured_locations', [location('NEW-01-X')]);
    await second;

    expect(view.check).toBe('unconfigured_locations');
    expect(view.items).toEqual([location('NEW-01-X')]);
    expect(view.loadingItems).toBe(false);
  });
});

describe('data-quality drill-down, answers in order', () => {
  it('ignores an answer for a check chosen before, arriving last', async () => {
    const { client, release } = slowClient();
    const view = new QualityState(client);

    const first = view.drill('rejected_messages');
    const second = view.drill('unconfigured_locations');
    release('unconfigured_locations', [location('NEW-01-X')]);
    await second;
    release('rejected_messages', []);
    await first;

    expect(view.items).toEqual([location('NEW-01-X')]);
  });
});
