import { describe, expect, it } from 'vitest';

import { buildHistory } from './build-history.ts';
import { planBeds } from './plan-beds.ts';
import type { MimicFiles } from './read-mimic-files.ts';

const columns = ['subject_id', 'hadm_id', 'transfer_id', 'eventtype', 'careunit', 'intime'];

function files(...lines: string[]): MimicFiles {
  return {
    dir: 'memory',
    admissions: new Map(),
    patients: new Map(),
    transfers: lines.map((text, index) => {
      const values = text.split(',');
      return {
        file: 'hosp/transfers.csv',
        line: index + 2,
        raw: Object.fromEntries([...columns, 'outtime'].map((c, i) => [c, values[i] ?? ''])),
      };
    }),
  };
}

describe('MIMIC history', () => {
  it('keeps a zero-length stay before the transfer that ends it, at the same instant', () => {
    const history = buildHistory(
      files(
        '1,10,1,admit,Medicine,2150-01-01 10:00:00,2150-01-01 10:00:00',
        '1,10,2,transfer,Neurology,2150-01-01 10:00:00,2150-01-01 12:00:00',
        '1,10,3,discharge,,2150-01-01 12:00:00,',
      ),
      'UTC',
    );

    expect(history.events.map((e) => `${e.kind} ${e.careUnit ?? ''}`)).toEqual([
      'admit Medicine',
      'transfer Neurology',
      'discharge ',
    ]);
    expect(planBeds(history.events).rejections).toEqual([]);
  });

  it('frees a bed before it is taken again at the same instant', () => {
    const history = buildHistory(
      files(
        '2,20,1,admit,Medicine,2150-01-01 08:00:00,2150-01-01 10:00:00',
        '2,20,2,transfer,Neurology,2150-01-01 10:00:00,2150-01-01 12:00:00',
        '2,20,3,discharge,,2150-01-01 12:00:00,',
        '3,30,4,admit,Medicine,2150-01-01 10:00:00,2150-01-01 11:00:00',
        '3,30,5,discharge,,2150-01-01 11:00:00,',
      ),
      'UTC',
    );

    const plan = planBeds(history.events);

    expect(plan.rejections).toEqual([]);
    expect(
      plan.events.map((p) => `${p.event.visitKey} ${p.event.kind} ${p.bed?.number ?? ''}`),
    ).toEqual([
      'hadm:20 admit 1',
      'hadm:20 transfer 1',
      'hadm:30 admit 1',
      'hadm:30 discharge ',
      'hadm:20 discharge ',
    ]);
    expect(plan.beds.map((bed) => `${bed.careUnit} ${bed.number}`)).toEqual([
      'Medicine 1',
      'Neurology 1',
    ]);
  });

  it('moves a patient to another bed of the same unit', () => {
    const history = buildHistory(
      files(
        '4,40,1,admit,Medicine,2150-01-01 08:00:00,2150-01-01 10:00:00',
        '4,40,2,transfer,Medicine,2150-01-01 10:00:00,2150-01-01 12:00:00',
        '4,40,3,discharge,,2150-01-01 12:00:00,',
      ),
      'UTC',
    );

    const plan = planBeds(history.events);

    expect(plan.events.map((p) => p.bed?.number ?? null)).toEqual([1, 2, null]);
  });
});
