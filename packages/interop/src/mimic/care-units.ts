import { createHash } from 'node:crypto';

import type { DepartmentKind } from '@medaxis/db';

export interface CareUnitDepartment {
  code: string;
  /** The care unit exactly as MIMIC writes it, so reports and tests can match on it. */
  name: string;
  kind: DepartmentKind;
}

// Short codes for the care units of MIMIC-IV (demo and full), as people on a ward would say
// them. Units not listed get a code derived from their name (see codeFromName).
const knownCodes: Record<string, string> = {
  'Emergency Department': 'ED',
  'Emergency Department Observation': 'ED-OBS',
  Observation: 'OBS',
  Medicine: 'MED',
  'Medicine/Cardiology': 'MED-CARD',
  'Medicine/Cardiology Intermediate': 'MED-CARD-INT',
  'Med/Surg': 'MED-SURG',
  'Med/Surg/GYN': 'MED-SURG-GYN',
  'Med/Surg/Trauma': 'MED-SURG-TRAUMA',
  Neurology: 'NEURO',
  'Neuro Intermediate': 'NEURO-INT',
  'Neuro Stepdown': 'NEURO-SD',
  Transplant: 'TRANSPLANT',
  Cardiology: 'CARD',
  'Cardiac Surgery': 'CSURG',
  'Cardiology Surgery Intermediate': 'CSURG-INT',
  'Hematology/Oncology': 'HEMONC',
  'Hematology/Oncology Intermediate': 'HEMONC-INT',
  Vascular: 'VASC',
  'Surgery/Trauma': 'SURG-TRAUMA',
  'Surgery/Vascular/Intermediate': 'SURG-VASC-INT',
  'Surgery/Pancreatic/Biliary/Bariatric': 'SURG-PBB',
  Surgery: 'SURG',
  'Thoracic Surgery': 'THOR-SURG',
  Orthopaedics: 'ORTHO',
  'Orthopaedics/Vascular': 'ORTHO-VASC',
  PACU: 'PACU',
  Psychiatry: 'PSYCH',
  'Discharge Lounge': 'DC-LOUNGE',
  'Labor & Delivery': 'L-AND-D',
  'Obstetrics (Postpartum & Antepartum)': 'OB',
  'Obstetrics Antepartum': 'OB-ANTE',
  'Obstetrics Postpartum': 'OB-POST',
  Nursery: 'NURSERY',
  'Nursery - Well Babies': 'NURSERY-WELL',
  'Special Care Nursery (SCN)': 'SCN',
  Unknown: 'UNKNOWN',
};

/** The department a MIMIC care unit becomes: a stable code, its name, a kind. */
export function departmentForCareUnit(careUnit: string): CareUnitDepartment {
  const name = careUnit.trim();
  return { code: knownCodes[name] ?? codeFromName(name), name, kind: kindOf(name) };
}

/**
 * "Medical Intensive Care Unit (MICU)" → MICU, "Medical/Surgical ... (MICU/SICU)" → MICU-SICU;
 * otherwise the words in capitals. A hash of the name keeps two long names that share their
 * first letters apart, so the code depends on the name alone, never on import order.
 */
function codeFromName(name: string): string {
  const acronym = /\(([A-Za-z0-9/ ]+)\)\s*$/.exec(name)?.[1];
  const base = (acronym ?? name)
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  if (acronym && base.length <= 16) return base;
  const hash = createHash('sha1').update(name).digest('hex').slice(0, 4).toUpperCase();
  return `${base.slice(0, 16).replace(/-$/, '')}-${hash}`;
}

function kindOf(name: string): DepartmentKind {
  if (/intensive care|\bICU\b|\(CCU\)|\bSICU\b/i.test(name)) return 'icu';
  if (/emergency/i.test(name)) return 'emergency';
  if (/labor|obstetric/i.test(name)) return 'maternity';
  if (/nursery|neonat|pediatric/i.test(name)) return 'pediatrics';
  if (/^PACU$|^cardiac surgery$|^surgery\b|thoracic surgery/i.test(name)) return 'surgery';
  if (/discharge lounge|^unknown$/i.test(name)) return 'other';
  return 'ward';
}
