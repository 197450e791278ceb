import { describe, expect, it } from 'vitest';

import { encodeMllpFrame, MllpDecoder, MllpFrameTooLarge } from './mllp.ts';

const payload = (text: string) => Buffer.from(text, 'utf8');

describe('MLLP framing', () => {
  it('returns the payload of a frame exactly as sent', () => {
    const frame = encodeMllpFrame(payload('MSH|^~\\&|A\nPID|1'));
    expect(new MllpDecoder().push(frame).map(String)).toEqual(['MSH|^~\\&|A\nPID|1']);
  });

  it('joins a frame split across chunks and cuts several frames out of one chunk', () => {
    const decoder = new MllpDecoder();
    const both = Buffer.concat([encodeMllpFrame(payload('one')), encodeMllpFrame(payload('two'))]);
    const cut = 3;
    expect(decoder.push(both.subarray(0, cut))).toEqual([]);
    expect(decoder.pendingBytes).toBe(cut - 1);
    expect(decoder.push(both.subarray(cut)).map(String)).toEqual(['one', 'two']);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('skips bytes between frames and ends a frame at FS even without the CR', () => {
    const decoder = new MllpDecoder();
    const bytes = Buffer.concat([
      payload('noise'),
      Buffer.from([0x0b]),
      payload('a'),
      Buffer.from([0x1c]),
      Buffer.from([0x0b]),
      payload('b'),
      Buffer.from([0x1c, 0x0d]),
    ]);
    expect(decoder.push(bytes).map(String)).toEqual(['a', 'b']);
  });

  it('refuses a frame that grows past the limit instead of buffering without end', () => {
    const decoder = new MllpDecoder(10);
    expect(() => decoder.push(Buffer.concat([Buffer.from([0x0b]), Buffer.alloc(11, 65)]))).toThrow(
      MllpFrameTooLarge,
    );
    expect(decoder.pendingBytes).toBe(0);
  });
});
