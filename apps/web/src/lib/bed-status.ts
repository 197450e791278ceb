import type { BoardBed } from '@medaxis/api';

/** The bed status union as the API sends it (web imports only types from the API). */
export type BedStatus = BoardBed['status'];

/** The word a tile shows, next to its icon: colour is never the only signal. */
export const statusLabel: Record<BedStatus, string> = {
  free: 'Free',
  occupied: 'Occupied',
  housekeeping: 'To clean',
  cleaning: 'Cleaning',
  blocked: 'Blocked',
  reserved: 'Reserved',
};

/** States whose duration matters to the bed manager: the tile shows a timer since `since`. */
export function hasStatusTimer(status: BedStatus): boolean {
  return (
    status === 'housekeeping' ||
    status === 'cleaning' ||
    status === 'blocked' ||
    status === 'reserved'
  );
}

/** Every status, in the order a legend lists them. */
export const bedStatusList = Object.keys(statusLabel) as BedStatus[];

/**
 * The bed code as a tile shows it inside its department's card: "AMU-03B" reads "03B", since
 * the card already names the department and space on a tile is what makes it legible. Codes
 * that do not start with the department code are shown whole.
 */
export function tileCode(code: string, departmentCode: string): string {
  for (const separator of ['-', '.', '/', ' ']) {
    const prefix = `${departmentCode}${separator}`;
    if (code.startsWith(prefix) && code.length > prefix.length) return code.slice(prefix.length);
  }
  return code;
}
