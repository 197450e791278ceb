import { readMessage, type ReadMessage } from './message.ts';

/*
 * Patient identity in a raw HL7 v2 message, for the dead-letter view: a viewer whose role (or
 * the patient's consent) does not allow a kind of identity sees `***` in those fields instead.
 * The message keeps its segments and field positions, so what is wrong with it stays visible.
 */

/** Kinds of identity a field carries; `other` is everything beyond MRN, name, birth date, sex. */
export type Hl7IdentityKind = 'mrn' | 'name' | 'birthDate' | 'sex' | 'other';

export type Hl7IdentityShown = ReadonlySet<Hl7IdentityKind>;

export const maskedValue = '***';

/**
 * Identity fields by segment and field number (HL7 v2.5 numbering; MSH carries none). Segments
 * listed with '*' are identity throughout: next of kin, guarantor, insurance, notes (free text
 * names people) and locally defined Z-segments, whose content MedAxis cannot know.
 */
const identityFields: Record<string, Record<number, Hl7IdentityKind> | '*'> = {
  PID: {
    2: 'mrn',
    3: 'mrn',
    4: 'mrn',
    5: 'name',
    6: 'name',
    7: 'birthDate',
    8: 'sex',
    9: 'name',
    11: 'other',
    12: 'other',
    13: 'other',
    14: 'other',
    18: 'mrn',
    19: 'other',
    20: 'other',
    21: 'other',
    23: 'other',
    29: 'other',
  },
  MRG: { 1: 'mrn', 2: 'mrn', 3: 'mrn', 4: 'mrn', 7: 'name' },
  PD1: { 3: 'other', 4: 'other' },
  NK1: '*',
  GT1: '*',
  IN1: '*',
  IN2: '*',
  IN3: '*',
  NTE: '*',
};

/**
 * The message text with every identity field the viewer may not see replaced by `***`.
 * Segments end with CR in the result; an unreadable message (no MSH) is masked line by line
 * all the same, with `|` as the field separator.
 */
export function maskHl7Identity(text: string, shown: Hl7IdentityShown): string {
  const lines = text.split(/\r\n|\r|\n/);
  const header = lines.find((line) => /^(MSH|FHS|BHS)/.test(line));
  const separator = header?.[3] ?? '|';
  return lines
    .map((line) => maskSegment(line, separator, shown))
    .join('\r')
    .replace(/\r+$/, '');
}

function maskSegment(line: string, separator: string, shown: Hl7IdentityShown): string {
  const name = line.slice(0, 3).toUpperCase();
  const rule = name.startsWith('Z') ? '*' : identityFields[name];
  if (!rule) return line;
  const fields = line.split(separator);
  const masked = fields.map((value, index) => {
    if (index === 0 || value === '') return value;
    const kind = rule === '*' ? 'other' : rule[index];
    return kind && !shown.has(kind) ? maskedValue : value;
  });
  return masked.join(separator);
}

/**
 * The patient identifiers (assigning authority, MRN) a message names in PID-3 and MRG-1, so a
 * viewer's access to those patients can be checked before their identity is shown. An
 * unreadable message names none that MedAxis could have applied.
 */
export function hl7PatientIdentifiers(text: string): { authority: string; mrn: string }[] {
  let message: ReadMessage;
  try {
    message = readMessage(text);
  } catch {
    return [];
  }
  const fallback = message.header.sendingFacility || message.header.sendingApplication || 'HL7';
  const found = new Map<string, { authority: string; mrn: string }>();
  for (const group of message.groups) {
    for (const identifier of [...group.pid.identifiers, ...(group.mrg?.identifiers ?? [])]) {
      if (identifier.id === '') continue;
      const authority = identifier.authority || fallback;
      found.set(`${authority}\u0000${identifier.id}`, { authority, mrn: identifier.id });
    }
  }
  return [...found.values()];
}
