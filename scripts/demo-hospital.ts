/**
 * A demo hospital for screenshots and demos: about 300 beds in 11 departments with a realistic
 * mix of states (mostly occupied, some free, housekeeping, cleaning, blocked, reserved,
 * isolation, discharges due, ED patients boarding). Structure goes straight into the catalog;
 * every state change goes through the API, so each one is a real command and board event.
 * Deterministic: the same seed gives the same board.
 */
import {
  createAnonymousPatient,
  ensureBed,
  ensureDepartment,
  ensureEncounter,
  ensureRoom,
  ensureSite,
  type Db,
} from '@medaxis/db';

import type { Api } from '../tests/support/stack.ts';

interface DepartmentPlan {
  code: string;
  name: string;
  kind: string;
  /** Beds per room, in room order. */
  rooms: number[];
}

const repeat = (beds: number, rooms: number) => Array.from({ length: rooms }, () => beds);

const plan: DepartmentPlan[] = [
  { code: 'ED', name: 'Emergency', kind: 'emergency', rooms: repeat(4, 6) },
  { code: 'AMU', name: 'Acute medical unit', kind: 'ward', rooms: repeat(4, 7) },
  { code: 'ICU', name: 'Intensive care', kind: 'icu', rooms: repeat(1, 16) },
  { code: 'CAR', name: 'Cardiology', kind: 'ward', rooms: repeat(4, 7) },
  { code: 'MDA', name: 'General medicine A', kind: 'ward', rooms: repeat(4, 8) },
  { code: 'MDB', name: 'General medicine B', kind: 'ward', rooms: repeat(4, 8) },
  { code: 'RES', name: 'Respiratory', kind: 'ward', rooms: [...repeat(4, 6), 1, 1, 1, 1] },
  { code: 'SUR', name: 'General surgery', kind: 'surgery', rooms: repeat(4, 8) },
  { code: 'ORT', name: 'Orthopaedics', kind: 'surgery', rooms: repeat(4, 7) },
  { code: 'MAT', name: 'Maternity', kind: 'maternity', rooms: [...repeat(1, 8), 4, 4, 4, 4] },
  { code: 'PAE', name: 'Paediatrics', kind: 'pediatrics', rooms: [...repeat(1, 8), 4, 4, 4] },
];

/** Mulberry32: a tiny seeded generator, so the demo board is the same on every run. */
function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const minute = 60_000;
const hour = 60 * minute;

export interface DemoHospital {
  beds: number;
  departments: number;
}

export async function seedDemoHospital(db: Db, api: Api, seed = 7): Promise<DemoHospital> {
  const random = seededRandom(seed);
  const now = Date.now();
  const ago = (ms: number) => new Date(now - ms).toISOString();
  const between = (min: number, max: number) => min + random() * (max - min);

  const site = await ensureSite(db, {
    code: 'DEMO',
    name: 'MedAxis General Hospital',
    timeZone: 'Europe/London',
  });
  const since = new Date(now - 10 * 24 * hour);
  let beds = 0;

  for (const [order, department] of plan.entries()) {
    const departmentId = await ensureDepartment(db, site, { ...department, sortOrder: order });
    const emergency = department.kind === 'emergency';

    for (const [r, size] of department.rooms.entries()) {
      const room = String(r + 1).padStart(2, '0');
      const roomId = await ensureRoom(db, departmentId, room);

      for (let b = 0; b < size; b++) {
        const code =
          size === 1 ? `${department.code}-${room}` : `${department.code}-${room}${'ABCD'[b]}`;
        const bedId = await ensureBed(db, { roomId, code, since });
        beds += 1;
        await playBed(bedId, emergency);
      }
    }
  }
  return { beds, departments: plan.length };

  /** Gives one bed its demo state through the API, oldest step first. */
  async function playBed(bedId: number, emergency: boolean) {
    const roll = random();
    const admittedAgo = emergency ? between(0.3 * hour, 10 * hour) : between(3 * hour, 200 * hour);

    const admit = async (extra: { admitDecisionAt?: string; expectedDischargeAt?: string }) =>
      api.adt.admit.mutate({
        bedId,
        at: ago(admittedAgo),
        newEncounter: { class: emergency ? 'emergency' : 'inpatient', ...extra },
      });

    if (roll < (emergency ? 0.55 : 0.82)) {
      // Occupied: some due home today, some boarding in the ED.
      const boarding = emergency && random() < 0.3;
      const dueToday = !emergency && random() < 0.28;
      const dueLater = !emergency && !dueToday && random() < 0.5;
      await admit({
        ...(boarding ? { admitDecisionAt: ago(between(0.5 * hour, admittedAgo * 0.8)) } : {}),
        ...(dueToday ? { expectedDischargeAt: ago(-between(1 * hour, 8 * hour)) } : {}),
        ...(dueLater ? { expectedDischargeAt: ago(-between(30 * hour, 120 * hour)) } : {}),
      });
      if (random() < 0.05) {
        await api.beds.setIsolation.mutate({ bedId, isolation: true, at: ago(admittedAgo / 2) });
      }
      return;
    }
    if (roll < 0.88) return; // free
    if (roll < 0.935) {
      // Vacated: waiting for housekeeping, and for some the cleaners are at work.
      const { encounterId } = await admit({});
      const leftAgo = between(10 * minute, 150 * minute);
      await api.adt.discharge.mutate({ encounterId, at: ago(leftAgo) });
      if (random() < 0.4) {
        await api.beds.cleaningStarted.mutate({ bedId, at: ago(leftAgo * random()) });
      }
      return;
    }
    if (roll < 0.965) {
      const reasons = ['maintenance', 'closed', 'contaminated', 'broken bed rail', 'no staff'];
      await api.beds.block.mutate({
        bedId,
        reason: reasons[Math.floor(random() * reasons.length)]!,
        at: ago(between(1 * hour, 60 * hour)),
      });
      return;
    }
    // Reserved for a patient on the way in.
    const patientId = await createAnonymousPatient(db);
    const encounterId = await ensureEncounter(db, { patientId, class: 'inpatient' });
    await api.beds.reserve.mutate({ bedId, encounterId, at: ago(between(5 * minute, 3 * hour)) });
  }
}
