import { describe, expect, it } from 'vitest';

import {
  computeDepartmentFigures,
  computeFigures,
  dischargeDue,
  isPendingDischarge,
} from './figures.ts';
import { makeBed, makeDepartment } from './testing/factories.ts';
import { dateKey } from './time.ts';

const timeZone = 'Europe/Paris';
// 10:00 in Paris on 3 December 2026.
const today = dateKey(Date.parse('2026-12-03T09:00:00Z'), timeZone);
const context = { today, timeZone };

describe('hospital figures', () => {
  it('counts each state, with housekeeping and cleaning together as cleaning', () => {
    const departments = [
      makeDepartment('MED', [
        makeBed({ status: 'occupied' }),
        makeBed({ status: 'occupied' }),
        makeBed({ status: 'free' }),
        makeBed({ status: 'housekeeping' }),
        makeBed({ status: 'cleaning' }),
      ]),
      makeDepartment('SUR', [
        makeBed({ status: 'blocked', reason: 'maintenance' }),
        makeBed({ status: 'reserved' }),
        makeBed({ status: 'occupied' }),
      ]),
    ];

    expect(computeFigures(departments, context)).toEqual({
      beds: 8,
      occupied: 3,
      free: 1,
      cleaning: 2,
      toClean: 1,
      blocked: 1,
      reserved: 1,
      occupancyPercent: 43, // 3 of the 7 open beds
      pendingDischarges: 0,
      boarding: 0,
    });
  });

  it('leaves blocked beds out of occupancy: every open bed taken reads 100 %', () => {
    const department = makeDepartment('ICU', [
      makeBed({ status: 'occupied' }),
      makeBed({ status: 'occupied' }),
      makeBed({ status: 'blocked', reason: 'closed' }),
      makeBed({ status: 'blocked', reason: 'closed' }),
    ]);

    expect(computeDepartmentFigures(department, context).occupancyPercent).toBe(100);
  });

  it('reads 0 % occupancy for a department with every bed blocked, not NaN', () => {
    const department = makeDepartment('OLD', [makeBed({ status: 'blocked', reason: 'closed' })]);

    expect(computeDepartmentFigures(department, context).occupancyPercent).toBe(0);
  });

  it('counts ED patients with an admit decision as waiting for a bed, and only in the ED', () => {
    const decided = '2026-12-03T06:00:00Z';
    const departments = [
      makeDepartment(
        'ED',
        [
          makeBed({ status: 'occupied', admitDecisionAt: decided }),
          makeBed({ status: 'occupied', admitDecisionAt: null }),
          makeBed({ status: 'free' }),
        ],
        { kind: 'emergency' },
      ),
      makeDepartment('MED', [makeBed({ status: 'occupied', admitDecisionAt: decided })]),
    ];

    expect(computeFigures(departments, context).boarding).toBe(1);
  });
});

describe('pending discharges', () => {
  it('counts an expected discharge later today in the site zone', () => {
    const bed = makeBed({ status: 'occupied', expectedDischargeAt: '2026-12-03T22:30:00Z' });

    expect(isPendingDischarge(bed, context)).toBe(true);
  });

  it('counts an overdue discharge', () => {
    const bed = makeBed({ status: 'occupied', expectedDischargeAt: '2026-11-30T10:00:00Z' });

    expect(isPendingDischarge(bed, context)).toBe(true);
    expect(dischargeDue(bed, context)).toBe('overdue');
  });

  it('tells a discharge due today from an overdue one', () => {
    const bed = makeBed({ status: 'occupied', expectedDischargeAt: '2026-12-03T08:00:00Z' });

    expect(dischargeDue(bed, context)).toBe('today');
  });

  it('does not count tomorrow in the site zone, even when it is still today in UTC', () => {
    // 23:30 UTC on the 3rd is 00:30 on the 4th in Paris.
    const bed = makeBed({ status: 'occupied', expectedDischargeAt: '2026-12-03T23:30:00Z' });

    expect(isPendingDischarge(bed, context)).toBe(false);
  });

  it('counts only occupied beds', () => {
    const bed = makeBed({ status: 'reserved', expectedDischargeAt: '2026-12-03T10:00:00Z' });

    expect(isPendingDischarge(bed, context)).toBe(false);
  });
});
