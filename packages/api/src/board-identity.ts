import {
  loadBoardOccupants,
  type BoardBedRow,
  type BoardOccupant,
  type Db,
  type OccupantQuery,
} from '@medaxis/db';
import {
  boardInitials,
  consentState,
  type AccessGranted,
  type ConsentPolicies,
} from '@medaxis/policy';

/*
 * What boards show of the patients in their beds: initials at most, and only where the
 * board's access decision and the patient's consent allow (DESIGN.md "Live board path" 4).
 * Bed rows in the event log never carry identity; it is added here, per board, when an event
 * is delivered, against consent as it stands then. So a consent change holds for every event
 * delivered after it, replayed or live, and the `consent-changed` event it appends re-shows
 * the patient's bed on the boards already open.
 */

/** The part of a board's access decision that says what it shows of patients. */
export interface BoardIdentity {
  /** Equal for boards that show the same identity: they can share one encoding of an event. */
  key: string;
  decision: Pick<AccessGranted, 'fieldMask' | 'boardHiddenUnder'>;
  /** The consent policies the patients' records are judged by. */
  policies: ConsentPolicies;
}

/** A board that shows no identity (and reads none). */
export const noIdentity: BoardIdentity = {
  key: 'none',
  decision: { fieldMask: { level: 'none', fields: new Set() }, boardHiddenUnder: [] },
  policies: {
    policies: new Map(),
    breakGlass: { defaultMinutes: 1, maxMinutes: 1, minReasonLength: 1 },
  },
};

export function boardIdentityOf(decision: AccessGranted, policies: ConsentPolicies): BoardIdentity {
  if (!decision.fieldMask.fields.has('initials')) return noIdentity;
  const key = `initials:${[...decision.boardHiddenUnder].sort().join(',')}`;
  return { key, decision, policies };
}

export function showsIdentity(identity: BoardIdentity): boolean {
  return identity.decision.fieldMask.fields.has('initials');
}

/** An event row as the hub and the log hand it out. */
interface EventLike {
  id: string;
  occurredAt: string;
}

const occupantsByRow = new WeakMap<object, Promise<Map<number, BoardOccupant>>>();

function occupiedBeds(beds: readonly BoardBedRow[]): number[] {
  return beds.filter((bed) => bed.status === 'occupied').map((bed) => bed.id);
}

/**
 * Reads, in one round trip, who lay in the occupied beds of each row not read yet, at the
 * row's time. The event hub hands the same row object to every listener of the instance, so
 * a thousand boards watching an event cost one read; a replayed page costs one read too.
 */
export function prefetchOccupants(
  db: Db,
  rows: readonly { row: EventLike; beds: readonly BoardBedRow[] }[],
): void {
  const missing = rows.filter(({ row }) => !occupantsByRow.has(row));
  if (missing.length === 0) return;
  const queries: OccupantQuery[] = missing.map(({ row, beds }) => ({
    key: row.id,
    bedIds: occupiedBeds(beds),
    at: row.occurredAt,
  }));
  const read = loadBoardOccupants(db, queries);
  for (const { row } of missing) {
    const occupants = read.then((all) => all.get(row.id) ?? new Map<number, BoardOccupant>());
    // A failed read is not kept: the next board (or the next replay) asks again.
    occupants.catch(() => occupantsByRow.delete(row));
    occupantsByRow.set(row, occupants);
  }
}

/** Who lay in the row's occupied beds at its time (read once per row, see above). */
export function occupantsOf(
  db: Db,
  row: EventLike,
  beds: readonly BoardBedRow[],
): Promise<Map<number, BoardOccupant>> {
  prefetchOccupants(db, [{ row, beds }]);
  return occupantsByRow.get(row)!;
}

/** Who lies in these beds now, for a snapshot. */
export async function currentOccupants(
  db: Db,
  beds: readonly BoardBedRow[],
  now: Date,
): Promise<Map<number, BoardOccupant>> {
  const read = await loadBoardOccupants(db, [{ key: 'now', bedIds: occupiedBeds(beds), at: now }]);
  return read.get('now')!;
}

/** Beds as one board shows them, and the patients whose initials they show. */
export interface ShownBeds<T extends BoardBedRow> {
  /** The same array when nothing changes, so boards that show no identity share one encoding. */
  beds: T[];
  /** Patients whose initials appear on these beds: what the board's audit row names. */
  patients: string[];
}

/** The beds with the initials this board may show, judged against consent at `now`. */
export function withInitials<T extends BoardBedRow>(
  beds: T[],
  occupants: ReadonlyMap<number, BoardOccupant>,
  identity: BoardIdentity,
  now: Date,
): ShownBeds<T> {
  const patients: string[] = [];
  if (!showsIdentity(identity) || occupants.size === 0) return { beds, patients };
  let changed = false;
  const shown = beds.map((bed) => {
    const occupant = bed.status === 'occupied' ? occupants.get(bed.id) : undefined;
    if (!occupant) return bed;
    const state = consentState(occupant.consent, identity.policies, now);
    const initials = boardInitials(identity.decision, state, occupant.initials);
    if (initials !== null) patients.push(occupant.patientId);
    if (initials === bed.initials) return bed;
    changed = true;
    return { ...bed, initials };
  });
  return { beds: changed ? shown : beds, patients };
}
