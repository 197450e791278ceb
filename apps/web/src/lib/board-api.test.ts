import { describe, expect, it } from 'vitest';

import { boardStreamUrl } from './board-api.ts';

describe('board stream address', () => {
  const page = { protocol: 'http:', host: 'medaxis.local:4000' };

  it('names the department and the event to resume after', () => {
    expect(boardStreamUrl(page, 'ICU', '812')).toBe(
      'ws://medaxis.local:4000/board-stream?department=ICU&lastEventId=812',
    );
  });

  it('asks for the whole hospital from now on when it has neither', () => {
    expect(boardStreamUrl(page, undefined, null)).toBe('ws://medaxis.local:4000/board-stream');
  });

  it('uses a secure socket on an https page', () => {
    expect(boardStreamUrl({ ...page, protocol: 'https:' }, undefined, '5')).toBe(
      'wss://medaxis.local:4000/board-stream?lastEventId=5',
    );
  });
});
