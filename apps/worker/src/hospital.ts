import { readFileSync } from 'node:fs';

/**
 * The hospital's time zone from config/hospital.json: day boundaries and cron schedules run
 * in it (DESIGN.md), so a 15-minute census lands on the hospital's quarter hours across DST.
 */
export function readHospitalTimeZone(path: string): string {
  const config = JSON.parse(readFileSync(path, 'utf8')) as { site?: { timeZone?: unknown } };
  const zone = config.site?.timeZone;
  if (typeof zone !== 'string') throw new Error(`${path}: site.timeZone is missing`);
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    throw new Error(`${path}: site.timeZone ${zone} is not an IANA time zone`);
  }
  return zone;
}
