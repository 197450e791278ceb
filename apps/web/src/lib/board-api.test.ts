import type { BoardMessage } from '@medaxis/api';
import { describe, expect, it } from 'vitest';

import { toBoardMessage } from './board-api.ts';

describe('stream messages', () => {
  const event: BoardMessage = {
    kind: 'event',
    id: '7',
    type: 'A01',
    occurredAt: '2026-12-03T10:00:00Z',
    recordedAt: '2026-12-03T10:00:00Z',
    beds: [],
  };

  it('unwraps a tracked event, which tRPC delivers as { id, data }', () => {
    expect(toBoardMessage({ id: '7', data: event })).toBe(event);
  });

  it('passes an untracked heartbeat through', () => {
    const heartbeat: BoardMessage = { kind: 'heartbeat', serverTime: '2026-12-03T10:00:05Z' };
    expect(toBoardMessage(heartbeat)).toBe(heartbeat);
  });
});
