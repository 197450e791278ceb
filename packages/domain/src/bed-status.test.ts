import { describe, expect, it } from 'vitest';

import { bedStatuses, BedStatus, fromHl7BedStatus, holdsEncounter } from './bed-status.ts';

describe('bed status', () => {
  it('names an encounter only when occupied or reserved', () => {
    const holding = bedStatuses.filter(holdsEncounter);

    expect(holding).toStrictEqual([BedStatus.occupied, BedStatus.reserved]);
  });

  describe('from HL7 table 0116', () => {
    it.each([
      ['U', { status: BedStatus.free }],
      ['O', { status: BedStatus.occupied }],
      ['H', { status: BedStatus.housekeeping }],
      ['C', { status: BedStatus.blocked, reason: 'closed' }],
      ['K', { status: BedStatus.blocked, reason: 'contaminated' }],
      ['I', { isolation: true }],
    ])('maps %s', (code, expected) => {
      expect(fromHl7BedStatus(code)).toStrictEqual(expected);
    });

    it('reads codes in any case', () => {
      expect(fromHl7BedStatus('k')).toStrictEqual({
        status: BedStatus.blocked,
        reason: 'contaminated',
      });
    });

    it.each(['', 'X', 'UO'])('knows nothing of %j', (code) => {
      expect(fromHl7BedStatus(code)).toBeUndefined();
    });
  });
});
