import {
  applyChanges,
  BedStatus,
  currentStay,
  decide,
  EncounterStatus,
  historyCommandOptions,
  isMedaxisError,
  type BedState,
  type Command,
  type EncounterState,
} from '@medaxis/domain';

import type { HistoryEvent } from './build-history.ts';

/** A bed the history needs: the n-th bed of a care unit, first used at `firstUse`. */
export interface PlannedBed {
  careUnit: string;
  number: number;
  firstUse: Date;
}

export interface PlannedEvent {
  event: HistoryEvent;
  /** The bed an admit or transfer goes to; null for a discharge. */
  bed: PlannedBed | null;
}

export interface EventRejection {
  event: HistoryEvent;
  reason: string;
  message: string;
}

export interface BedPlan {
  events: PlannedEvent[];
  beds: PlannedBed[];
  rejections: EventRejection[];
}

/**
 * Gives every admit and transfer a bed of its care unit, walking the events in their order
 * through the domain itself (decide + applyChanges on an in-memory world), so the plan obeys
 * exactly the rules the database will apply. A unit's lowest-numbered bed that nobody lies in
 * at the event's instant is reused (history may take a bed before housekeeping is recorded);
 * when there is none, the unit gets a new bed. Walking in time order makes "nobody lies in it
 * now" the same as "free over the whole stay": no later stay has been placed yet.
 * Events the domain refuses are returned as rejections and change nothing.
 */
export function planBeds(events: readonly HistoryEvent[]): BedPlan {
  const options = historyCommandOptions(new Date());
  const beds = new Map<number, BedState>();
  const bedPlans: PlannedBed[] = [];
  const unitBeds = new Map<string, number[]>();
  const encounters = new Map<string, EncounterState>();
  let staySeq = 0;
  const newStayId = () => String(++staySeq);

  const planned: PlannedEvent[] = [];
  const rejections: EventRejection[] = [];
  for (const event of events) {
    const encounter = encounters.get(event.visitKey) ?? newEncounter(event.visitKey);
    const currentBedId = currentStay(encounter)?.bedId;

    let target: { id: number; plan: PlannedBed; created: boolean } | undefined;
    if (event.careUnit !== null) {
      const ids = unitBeds.get(event.careUnit) ?? [];
      const reusable = ids.find(
        (id) => id !== currentBedId && beds.get(id)?.status !== BedStatus.occupied,
      );
      target =
        reusable !== undefined
          ? { id: reusable, plan: bedPlans[reusable - 1]!, created: false }
          : {
              id: bedPlans.length + 1,
              plan: { careUnit: event.careUnit, number: ids.length + 1, firstUse: event.at },
              created: true,
            };
    }
    const command: Command =
      event.kind === 'discharge' || !target
        ? { type: 'discharge', encounterId: event.visitKey, at: event.at }
        : { type: event.kind, encounterId: event.visitKey, bedId: target.id, at: event.at };

    const slice = {
      beds: new Map<number, BedState>(),
      encounters: new Map([[encounter.id, encounter]]),
    };
    for (const id of [currentBedId, target?.id]) {
      if (id === undefined) continue;
      slice.beds.set(id, beds.get(id) ?? newBed(id, event.at));
    }
    let changes;
    try {
      changes = decide(slice, command, options);
    } catch (error) {
      if (!isMedaxisError(error)) throw error;
      rejections.push({ event, reason: error.reason, message: error.message });
      continue;
    }

    const next = applyChanges(slice, changes, newStayId);
    if (target?.created) {
      bedPlans.push(target.plan);
      unitBeds.set(target.plan.careUnit, [
        ...(unitBeds.get(target.plan.careUnit) ?? []),
        target.id,
      ]);
    }
    // Only the last earlier interval is kept, as the database loader does: a cancel needs no
    // more, and a full history per bed would grow with every stay.
    for (const bed of next.beds.values())
      beds.set(bed.id, { ...bed, history: bed.history.slice(-1) });
    for (const updated of next.encounters.values()) encounters.set(updated.id, updated);
    planned.push({ event, bed: target?.plan ?? null });
  }
  return { events: planned, beds: bedPlans, rejections };
}

function newEncounter(id: string): EncounterState {
  return { id, status: EncounterStatus.planned, admittedAt: null, dischargedAt: null, stays: [] };
}

function newBed(id: number, since: Date): BedState {
  return {
    id,
    status: BedStatus.free,
    since,
    reason: null,
    encounterId: null,
    isolation: false,
    history: [],
  };
}
