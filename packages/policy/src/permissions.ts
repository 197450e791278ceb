/**
 * The closed set of permissions. Every tRPC procedure names exactly one in its meta; a role
 * grants a list of them in config/roles.json. Anything not granted is denied.
 */
export const permissions = [
  /** See the wall board (bed states, timers, isolation; identity only where policy allows). */
  'board.read',
  /** Departments, rooms, beds, census figures: no patient data. */
  'catalog.read',
  'census.read',
  /** ADT commands: admit, transfer, discharge, cancels, swap. */
  'adt.write',
  /** Bed status commands: housekeeping, block, reserve, isolation. */
  'bed.write',
  /** Patient demographics and encounters. */
  'patient.read',
  'patient.search',
  'patient.export',
  'patient.write',
  /** Record consent decisions for a patient. */
  'consent.write',
  /** Override a consent restriction with a reason, for a limited time. */
  'breakglass.use',
  /** Compliance views of the audit log and the chain's state; break-glass review. */
  'audit.read',
  'audit.review',
  /** Compliance reports as CSV files. */
  'audit.export',
  /** Administration. */
  'user.manage',
  'device.manage',
  /** HL7 feed: list received messages and their outcomes (no patient data). */
  'interface.read',
  /** HL7 feed: reprocess stored messages (the dead-letter queue). */
  'interface.manage',
  /** Imports: the rows imports rejected, with where and why (no row contents but locations). */
  'import.read',
  /** Imports: reprocess kept rejections, as stored or edited (writes what the row holds). */
  'import.manage',
  /** ADT data quality: counts and drill-down of what feeds and imports left (no patient data). */
  'quality.read',
] as const;

export type Permission = (typeof permissions)[number];

export function isPermission(value: string): value is Permission {
  return (permissions as readonly string[]).includes(value);
}
