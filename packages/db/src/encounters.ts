import { ErrorCode, MedaxisError } from '@medaxis/domain';

import { loadBoardBeds } from './board.ts';
import { deferCommandAudit, type CommandAuditSink } from './commands.ts';
import { appendEvent } from './events.ts';
import { withTransaction, type Db } from './pool.ts';

/**
 * Records that an ED patient is to be admitted: from then on they are boarding. The board
 * shows it on the ED bed, so it is an event like any other, carrying that bed's new state.
 * It changes no bed and no stay, so it needs no decision of the bed state machine: the one
 * rule (an open visit gets one decision) is the UPDATE's condition.
 */
export async function recordAdmitDecision(
  db: Db,
  input: {
    encounterId: string;
    at: Date;
    source: string;
    /** A batch source's audit trail (as for executeCommand): the write is deferred to it. */
    audit?: CommandAuditSink | undefined;
  },
): Promise<string> {
  const eventId = await withTransaction(db, async (tx) => {
    const updated = await tx.query<{ id: string }>(
      `UPDATE encounter SET admit_decision_at = $2
        WHERE id = $1 AND status = 'in_progress' AND admit_decision_at IS NULL
        RETURNING id`,
      [input.encounterId, input.at],
    );
    if (updated.rowCount === 0) {
      throw new MedaxisError(
        ErrorCode.conflict,
        'no_admit_decision',
        `Encounter ${input.encounterId} is not an open visit waiting for a decision.`,
      );
    }
    const { rows } = await tx.query<{ bedId: number; departmentId: number }>(
      `SELECT b.id AS "bedId", r.department_id AS "departmentId"
         FROM bed b JOIN room r ON r.id = b.room_id
        WHERE b.encounter_id = $1 AND b.status = 'occupied'`,
      [input.encounterId],
    );
    const bed = rows[0];
    const beds = bed ? await loadBoardBeds(tx, [bed.bedId]) : [];
    return appendEvent(tx, {
      type: 'admit-decision',
      occurredAt: input.at,
      source: input.source,
      departmentId: bed?.departmentId ?? null,
      bedId: bed?.bedId ?? null,
      encounterId: input.encounterId,
      payload: {
        command: { type: 'admit-decision', encounterId: input.encounterId, at: input.at },
        beds,
      },
    });
  });
  if (input.audit) {
    deferCommandAudit(input.audit, input.source, 'admit-decision', [input.encounterId]);
  }
  return eventId;
}
