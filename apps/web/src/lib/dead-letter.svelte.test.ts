import type { Hl7MessageSummary } from '@medaxis/api';
import { describe, expect, it } from 'vitest';

import { canReprocess, DeadLetterState, pageSize } from './dead-letter.svelte.ts';
import type { OpsClient } from './ops-api.ts';

function message(id: number, status: Hl7MessageSummary['status']): Hl7MessageSummary {
  return { id: String(id), status } as Hl7MessageSummary;
}

/** A server holding `total` rejected messages, answering pages newest first. */
function serverWith(total: number) {
  const calls: unknown[] = [];
  const client = {
    hl7: {
      messages: {
        query: (input: { beforeId?: string; limit: number }) => {
          calls.push(input);
          const below = input.beforeId === undefined ? total + 1 : Number(input.beforeId);
          const ids = Array.from({ length: total }, (_, i) => total - i).filter((id) => id < below);
          return Promise.resolve({
            counts: {},
            outcomes: { rejected: total, errored: 0, unsupported: 0, all: total },
            messages: ids.slice(0, input.limit).map((id) => message(id, 'rejected')),
          });
        },
      },
    },
  } as unknown as OpsClient;
  return { client, calls };
}

describe('dead-letter view', () => {
  it('offers reprocessing only where something is left to do', () => {
    expect(canReprocess(message(1, 'rejected'))).toBe(true);
    expect(canReprocess(message(1, 'unsupported'))).toBe(true);
    expect(canReprocess(message(1, 'applied'))).toBe(false);
    expect(canReprocess(message(1, 'duplicate'))).toBe(false);
    expect(canReprocess(message(1, 'batch'))).toBe(false);
  });

  it('pages back through older messages until there are none', async () => {
    const { client, calls } = serverWith(pageSize + 5);
    const view = new DeadLetterState(client);

    await view.load('rejected');
    expect(view.messages).toHaveLength(pageSize);
    expect(view.hasOlder).toBe(true);

    await view.older();

    expect(view.messages).toHaveLength(pageSize + 5);
    expect(view.messages.at(-1)!.id).toBe('1');
    expect(view.hasOlder).toBe(false);
    expect(calls.at(-1)).toEqual({ outcome: 'rejected', beforeId: '6', limit: pageSize });
  });
});
