import {
  ensureEncounter,
  ensurePatient,
  executeCommand,
  type CommandContext,
  type CommandResult,
  type Db,
  type Queryable,
} from '@medaxis/db';

import type { DepartmentKind } from '../hospital-config.ts';
import type { Random } from './random.ts';

// Made-up people for the demo hospital. Identity goes only to patient_identity (through
// ensurePatient); operational rows and logs see the opaque ids.
const givenNames = {
  female: [
    'Ada',
    'Beatriz',
    'Chloe',
    'Dana',
    'Elena',
    'Fatima',
    'Grace',
    'Hana',
    'Ines',
    'June',
    'Keiko',
    'Lena',
    'Maya',
    'Nora',
    'Olivia',
    'Priya',
    'Rosa',
    'Sofia',
    'Tamar',
    'Yara',
  ],
  male: [
    'Aaron',
    'Bruno',
    'Carlos',
    'David',
    'Emeka',
    'Felix',
    'Gabriel',
    'Hugo',
    'Ivan',
    'Jonas',
    'Kenji',
    'Luis',
    'Marek',
    'Noah',
    'Omar',
    'Pavel',
    'Rafael',
    'Samuel',
    'Tomas',
  ],
} as const;
const familyNames = [
  'Abbott',
  'Baptiste',
  'Carver',
  'Delgado',
  'Ekström',
  'Fischer',
  'Garza',
  'Haddad',
  'Ibarra',
  'Jensen',
  'Kowalski',
  'Lindqvist',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Petrov',
  'Quinn',
  'Rossi',
  'Sato',
  'Thornton',
  'Umarov',
  'Varga',
  'Whitaker',
  'Yilmaz',
  'Zhou',
  'Brennan',
  'Castillo',
  'Duarte',
  'Fontaine',
  'Gallagher',
];

export interface DemoEncounterInput {
  class: 'inpatient' | 'emergency';
  departmentId: number;
  departmentKind: DepartmentKind;
  admitDecisionAt?: Date | null;
  expectedDischargeAt?: Date | null;
  /** Visit number in the demo's own numbering, kept as the encounter's source reference. */
  visitNumber?: string | null;
  /** Where the encounter comes from (encounter.source_system): seed or simulator. */
  sourceSystem: string;
}

/**
 * Registers a made-up patient (identity apart, as for a real one) and a planned encounter, in
 * the caller's transaction: the admit that follows in the same transaction gives it a bed.
 */
export async function createDemoEncounter(
  tx: Queryable,
  random: Random,
  authority: string,
  input: DemoEncounterInput,
): Promise<string> {
  const sex = input.departmentKind === 'maternity' || random.chance(0.5) ? 'female' : 'male';
  const patientId = await ensurePatient(tx, {
    authority,
    mrn: String(random.integer(10_000_000, 99_999_999)),
    givenName: random.pick(givenNames[sex]),
    familyName: random.pick(familyNames),
    birthDate: birthDate(random, input.departmentKind),
    sex: sex === 'female' ? 'F' : 'M',
  });
  return ensureEncounter(tx, {
    patientId,
    class: input.class,
    departmentId: input.departmentId,
    admitDecisionAt: input.admitDecisionAt ?? null,
    expectedDischargeAt: input.expectedDischargeAt ?? null,
    sourceSystem: input.sourceSystem,
    sourceRef: input.visitNumber ?? null,
  });
}

/** A birth date plausible for the department: children in pediatrics, older adults elsewhere. */
function birthDate(random: Random, kind: DepartmentKind): string {
  const [youngest, oldest] =
    kind === 'pediatrics' ? [0, 17] : kind === 'maternity' ? [18, 43] : [18, 97];
  // Square root skews adults towards old age, as hospital populations are.
  const share =
    kind === 'pediatrics' || kind === 'maternity' ? random.next() : Math.sqrt(random.next());
  const age = youngest + share * (oldest - youngest);
  const born = new Date(Date.now() - age * 365.25 * 86_400_000);
  return born.toISOString().slice(0, 10);
}

/**
 * Admits a new demo patient into a bed: registration and admit commit together or not at all,
 * so a refused admit leaves no stray encounter behind.
 */
export async function admitNewPatient(
  db: Db,
  random: Random,
  authority: string,
  input: DemoEncounterInput,
  admission: { bedId: number; at: Date },
  context: CommandContext,
): Promise<CommandResult & { encounterId: string }> {
  const command = { type: 'admit' as const, encounterId: '', ...admission };
  const result = await executeCommand(db, command, {
    ...context,
    // executeCommand reads the command after `prepare`: the encounter's id is known by then.
    prepare: async (tx) => {
      await context.prepare?.(tx);
      command.encounterId = await createDemoEncounter(tx, random, authority, input);
    },
  });
  return { ...result, encounterId: command.encounterId };
}
