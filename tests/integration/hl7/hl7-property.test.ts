import fc from 'fast-check';
import { readAck, type MllpClient } from '@medaxis/interop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { adt, startHl7Stack, type Hl7Stack } from './hl7-support.ts';

/**
 * Random interleavings of ADT sequences across patients, sent over MLLP, against a reference
 * model written from docs/hl7.md alone: a visit is in at most one bed, a bed holds at most
 * one visit, and each event maps onto an admission, transfer, discharge or cancel as the
 * document says. Beds are few, so patients collide.
 */

type Event = 'A01' | 'A02' | 'A03' | 'A11' | 'A12' | 'A13';
interface Step {
  visit: number;
  event: Event;
  bed: number;
}

// ---- generating sequences that are valid for each patient on its own -----------------------

const bedCount = 3;

/** Turns random choices into a sequence a hospital could send for one visit. */
function sequenceFor(visit: number, choices: { pick: number; bed: number }[]): Step[] {
  let state: 'none' | 'in' | 'out' = 'none';
  let bed = -1;
  let last: Event | undefined;
  const steps: Step[] = [];
  for (const choice of choices) {
    const allowed: Event[] =
      state === 'none'
        ? ['A01']
        : state === 'out'
          ? ['A13']
          : [
              'A02',
              'A03',
              ...(last === 'A01' || last === 'A13' ? (['A11'] as const) : []),
              ...(last === 'A02' ? (['A12'] as const) : []),
            ];
    const event = allowed[choice.pick % allowed.length]!;
    let target = choice.bed % bedCount;
    if (event === 'A02' && target === bed) target = (target + 1) % bedCount;
    steps.push({ visit, event, bed: event === 'A01' || event === 'A02' ? target : bed });
    if (event === 'A01' || event === 'A02') [state, bed] = ['in', target];
    if (event === 'A03') state = 'out';
    if (event === 'A13') state = 'in';
    if (event === 'A11') [state, bed] = ['none', -1];
    last = event;
  }
  return steps;
}

const scenario = fc
  .array(
    fc.array(fc.record({ pick: fc.nat(5), bed: fc.nat(bedCount - 1) }), {
      minLength: 1,
      maxLength: 7,
    }),
    {
      minLength: 2,
      maxLength: 4,
    },
  )
  .chain((patients) => {
    const sequences = patients.map((choices, visit) => sequenceFor(visit, choices));
    const total = sequences.reduce((sum, steps) => sum + steps.length, 0);
    return fc
      .array(fc.nat(sequences.length - 1), { minLength: total, maxLength: total })
      .map((order) => interleave(sequences, order));
  });

/** Merges the sequences, keeping each patient's order, picking the next patient by `order`. */
function interleave(sequences: Step[][], order: number[]): Step[] {
  const queues = sequences.map((steps) => [...steps]);
  const merged: Step[] = [];
  for (const wish of order) {
    let index = wish;
    while (queues[index]!.length === 0) index = (index + 1) % queues.length;
    merged.push(queues[index]!.shift()!);
  }
  return merged;
}

// ---- the reference model ----------------------------------------------------------------------

interface ModelStay {
  bed: number;
  start: number;
  end: number | null;
  endReason: 'transfer' | 'discharge' | null;
}
interface ModelVisit {
  status: 'planned' | 'in_progress' | 'finished';
  stays: ModelStay[];
}

class Model {
  readonly visits = new Map<number, ModelVisit>();

  occupant(bed: number): number | undefined {
    for (const [visit, state] of this.visits) {
      if (state.stays.some((stay) => stay.bed === bed && stay.end === null)) return visit;
    }
    return undefined;
  }

  /** AA or AE <reason>, and the change, for one step at time t. */
  apply(step: Step, t: number): string {
    const visit = this.visits.get(step.visit);
    const current = visit?.stays.find((stay) => stay.end === null);
    switch (step.event) {
      case 'A01':
      case 'A02': {
        if (current?.bed === step.bed) return 'AA';
        const draft = visit ?? { status: 'planned', stays: [] };
        if (!current && draft.status === 'finished') return 'AE encounter_finished';
        const holder = this.occupant(step.bed);
        if (holder !== undefined) return 'AE bed_occupied';
        if (current) Object.assign(current, { end: t, endReason: 'transfer' });
        draft.stays.push({ bed: step.bed, start: t, end: null, endReason: null });
        draft.status = 'in_progress';
        this.visits.set(step.visit, draft);
        return 'AA';
      }
      case 'A03':
        if (!visit) return 'AE unknown_encounter';
        // An inpatient visit never admitted (its A01 cancelled) has no stay to end.
        if (!current && visit.status === 'planned') return 'AE not_admitted';
        if (current) {
          Object.assign(current, { end: t, endReason: 'discharge' });
          visit.status = 'finished';
        }
        return 'AA';
      case 'A11':
        if (!visit) return 'AE unknown_encounter';
        if (!current) return 'AE not_in_bed';
        if (visit.stays.length > 1) return 'AE moved_since_admit';
        visit.stays = [];
        visit.status = 'planned';
        return 'AA';
      case 'A12': {
        if (!visit) return 'AE unknown_encounter';
        if (!current) return 'AE not_in_bed';
        const previous = visit.stays.at(-2);
        if (previous?.endReason !== 'transfer') return 'AE no_transfer';
        if (this.takenSince(previous, step.visit)) return 'AE bed_taken';
        visit.stays.pop();
        Object.assign(previous, { end: null, endReason: null });
        return 'AA';
      }
      case 'A13': {
        if (!visit) return 'AE unknown_encounter';
        const last = visit.stays.at(-1);
        if (visit.status !== 'finished' || last?.endReason !== 'discharge') {
          return 'AE not_discharged';
        }
        if (this.takenSince(last, step.visit)) return 'AE bed_taken';
        Object.assign(last, { end: null, endReason: null });
        visit.status = 'in_progress';
        return 'AA';
      }
    }
  }

  /** Someone else lay in the stay's bed after the stay ended: the patient cannot go back. */
  private takenSince(stay: ModelStay, self: number): boolean {
    for (const [visit, state] of this.visits) {
      if (visit === self) continue;
      if (state.stays.some((other) => other.bed === stay.bed && other.start >= stay.end!)) {
        return true;
      }
    }
    return false;
  }
}

// ---- the property -----------------------------------------------------------------------------

let stack: Hl7Stack;
let client: MllpClient;
let run = 0;
const origin = Math.floor(Date.now() / 60_000) * 60_000 - 365 * 86_400_000;

beforeAll(async () => {
  stack = await startHl7Stack();
  client = await stack.connect();
});

afterAll(async () => {
  await client?.close();
  await stack?.stop();
});

describe('HL7 ADT interleavings across patients', () => {
  it('never put two patients in one bed and agree with the reference model', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (steps) => {
        // Each run gets its own beds (created on first use), visits and stretch of time.
        const prefix = `P${++run}`;
        const minute = (i: number) => origin + run * 3_600_000 + i * 60_000;
        const model = new Model();
        const bedCode = (bed: number) => `${prefix}-01-${'ABC'[bed]}`;

        for (const [i, step] of steps.entries()) {
          const expected = model.apply(step, minute(i));
          const ack = readAck(
            await client.send(
              Buffer.from(
                adt({
                  event: step.event,
                  controlId: `${prefix}-${i}`,
                  at: new Date(minute(i)),
                  mrn: `${prefix}-M${step.visit}`,
                  visit: `${prefix}-V${step.visit}`,
                  bed: bedCode(step.bed),
                }),
              ),
            ),
          );
          const got = `${ack.code}${ack.code === 'AA' ? '' : ` ${ack.reason}`}`;
          // The state machine finds a returning patient's bed taken either in the bed's
          // history or, deeper in the past, through the exclusion constraint.
          expect(
            got.replace('bed_overlap', 'bed_taken'),
            `step ${i}: ${JSON.stringify(step)}`,
          ).toBe(expected);
        }

        const { rows } = await stack.database.db.query<{
          visit: string;
          bed: string;
          start: Date;
          end: Date | null;
        }>(
          `SELECT e.source_ref AS visit, b.code AS bed, s.start_at AS start, s.end_at AS end
             FROM bed_stay s JOIN bed b ON b.id = s.bed_id JOIN encounter e ON e.id = s.encounter_id
            WHERE e.source_ref LIKE $1 AND NOT s.cancelled ORDER BY e.source_ref, s.start_at`,
          [`${prefix}-V%`],
        );
        const expectedStays = [...model.visits.entries()]
          .sort(([a], [b]) => String(a).localeCompare(String(b)))
          .flatMap(([visit, state]) =>
            state.stays.map((stay) => ({
              visit: `${prefix}-V${visit}`,
              bed: bedCode(stay.bed),
              start: new Date(stay.start),
              end: stay.end === null ? null : new Date(stay.end),
            })),
          );
        expect(rows).toEqual(expectedStays);

        const beds = await stack.database.db.query<{ bed: string; visit: string | null }>(
          `SELECT b.code AS bed, e.source_ref AS visit
             FROM bed b LEFT JOIN encounter e ON e.id = b.encounter_id
            WHERE b.code LIKE $1 ORDER BY b.code`,
          [`${prefix}-%`],
        );
        for (const row of beds.rows) {
          const occupant = model.occupant('ABC'.indexOf(row.bed.at(-1)!));
          expect(row.visit, row.bed).toBe(occupant === undefined ? null : `${prefix}-V${occupant}`);
        }
      }),
      { numRuns: 40 },
    );

    // The invariant the database enforces, checked over everything the runs wrote.
    const overlaps = await stack.database.db.query(
      `SELECT 1 FROM bed_stay a JOIN bed_stay b
          ON a.bed_id = b.bed_id AND a.id < b.id AND NOT a.cancelled AND NOT b.cancelled
         AND tstzrange(a.start_at, a.end_at) && tstzrange(b.start_at, b.end_at)`,
    );
    expect(overlaps.rowCount).toBe(0);
  });
});
