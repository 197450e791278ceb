import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const header = 'subject_id,hadm_id,transfer_id,eventtype,careunit,intime,outtime';

/** A throwaway MIMIC folder holding only hosp/transfers.csv with the given rows. */
export function writeTransfersFixture(rows: string[]): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'medaxis-mimic-'));
  mkdirSync(join(dir, 'hosp'));
  writeFileSync(join(dir, 'hosp/transfers.csv'), [header, ...rows].join('\n') + '\n');
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
