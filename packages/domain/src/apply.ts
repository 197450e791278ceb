import { holdsEncounter } from './bed-status.ts';
import type { BedState, Change, EncounterState, StayState, World } from './state.ts';

/**
 * Applies changes to an in-memory world and returns the new world; the input is not mutated.
 * The database applies the same changes to rows (packages/db); this is the reference model the
 * property tests compare against, and what simulators and importers use to plan ahead.
 */
export function applyChanges(world: World, changes: readonly Change[], newStayId: () => string) {
  const beds = new Map(world.beds);
  const encounters = new Map(world.encounters);
  const stays = new Map<string, StayState>();
  for (const encounter of encounters.values()) {
    for (const stay of encounter.stays) stays.set(stay.id, stay);
  }

  const updateStays = (encounterId: string, update: (list: StayState[]) => StayState[]) => {
    const encounter = encounters.get(encounterId);
    if (!encounter) throw new Error(`applyChanges: no encounter ${encounterId}`);
    encounters.set(encounterId, { ...encounter, stays: update([...encounter.stays]) });
  };
  const bedOf = (bedId: number): BedState => {
    const bed = beds.get(bedId);
    if (!bed) throw new Error(`applyChanges: no bed ${bedId}`);
    return bed;
  };
  const stayOf = (stayId: string): StayState => {
    const stay = stays.get(stayId);
    if (!stay) throw new Error(`applyChanges: no stay ${stayId}`);
    return stay;
  };

  for (const change of changes) {
    switch (change.kind) {
      case 'open-stay': {
        const stay: StayState = {
          id: newStayId(),
          encounterId: change.encounterId,
          bedId: change.bedId,
          startAt: change.at,
          endAt: null,
          endReason: null,
        };
        stays.set(stay.id, stay);
        updateStays(change.encounterId, (list) => [...list, stay]);
        break;
      }
      case 'close-stay':
      case 'reopen-stay': {
        const stay = stayOf(change.stayId);
        const updated: StayState =
          change.kind === 'close-stay'
            ? { ...stay, endAt: change.at, endReason: change.reason }
            : { ...stay, endAt: null, endReason: null };
        stays.set(stay.id, updated);
        updateStays(stay.encounterId, (list) => list.map((s) => (s.id === stay.id ? updated : s)));
        break;
      }
      case 'cancel-stay': {
        const stay = stayOf(change.stayId);
        stays.delete(stay.id);
        updateStays(stay.encounterId, (list) => list.filter((s) => s.id !== stay.id));
        break;
      }
      case 'set-bed-status': {
        const bed = bedOf(change.bedId);
        const { id: _id, isolation: _isolation, history, ...current } = bed;
        beds.set(bed.id, {
          ...bed,
          status: change.status,
          since: change.at,
          reason: change.reason,
          encounterId: holdsEncounter(change.status) ? change.encounterId : null,
          history: [...history, current],
        });
        break;
      }
      case 'restore-bed-status': {
        const bed = bedOf(change.bedId);
        const previous = bed.history.at(-1);
        if (!previous) throw new Error(`applyChanges: bed ${bed.id} has no earlier status`);
        beds.set(bed.id, { ...bed, ...previous, history: bed.history.slice(0, -1) });
        break;
      }
      case 'set-isolation':
        beds.set(change.bedId, { ...bedOf(change.bedId), isolation: change.isolation });
        break;
      case 'update-encounter': {
        const encounter: EncounterState | undefined = encounters.get(change.encounterId);
        if (!encounter) throw new Error(`applyChanges: no encounter ${change.encounterId}`);
        encounters.set(change.encounterId, {
          ...encounter,
          status: change.status,
          admittedAt: change.admittedAt,
          dischargedAt: change.dischargedAt,
        });
        break;
      }
    }
  }
  return { beds, encounters } satisfies World;
}
