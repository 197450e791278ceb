import { ErrorCode, MedaxisError } from '@medaxis/domain';
import type { BreakGlassGrant } from '@medaxis/policy';

import type { Queryable } from './pool.ts';

/** One override as the review queue shows it: who, which patient (opaque id), why, when. */
export interface BreakGlassRow extends BreakGlassGrant {
  reason: string;
  reviewedBy: string | null;
  reviewedAt: Date | null;
  reviewNote: string | null;
}

const columns = `g.id::text AS id, g.user_id AS "userId", g.patient_id AS "patientId", g.reason,
  g.started_at AS "startedAt", g.expires_at AS "expiresAt", g.reviewed_by AS "reviewedBy",
  g.reviewed_at AS "reviewedAt", g.review_note AS "reviewNote"`;

/** Records an override; the caller has checked the reason and the period (policy). */
export async function openBreakGlass(
  db: Queryable,
  input: Pick<BreakGlassRow, 'userId' | 'patientId' | 'reason' | 'startedAt' | 'expiresAt'>,
): Promise<BreakGlassRow> {
  try {
    const { rows } = await db.query<BreakGlassRow>(
      `INSERT INTO break_glass AS g (user_id, patient_id, reason, started_at, expires_at)
       VALUES ($1, $2, $3, $4, $5)
       RETURNING ${columns}`,
      [input.userId, input.patientId, input.reason, input.startedAt, input.expiresAt],
    );
    return rows[0]!;
  } catch (error) {
    if ((error as { code?: string }).code === '23503') {
      throw new MedaxisError(ErrorCode.notFound, 'unknown_patient', 'No such patient.', {
        cause: error,
      });
    }
    throw error;
  }
}

/** The user's overrides in effect at `at` (the access decision re-checks each period). */
export async function activeBreakGlass(
  db: Queryable,
  userId: string,
  at: Date,
): Promise<BreakGlassGrant[]> {
  const { rows } = await db.query<BreakGlassGrant>(
    `SELECT g.id::text AS id, g.user_id AS "userId", g.patient_id AS "patientId",
            g.started_at AS "startedAt", g.expires_at AS "expiresAt"
       FROM break_glass g
      WHERE g.user_id = $1 AND g.started_at <= $2 AND g.expires_at > $2`,
    [userId, at],
  );
  return rows;
}

/** Overrides waiting for review, oldest first (or the reviewed ones, newest first). */
export async function listBreakGlass(
  db: Queryable,
  options: { reviewed: boolean; limit: number },
): Promise<BreakGlassRow[]> {
  const { rows } = await db.query<BreakGlassRow>(
    options.reviewed
      ? `SELECT ${columns} FROM break_glass g WHERE g.reviewed_at IS NOT NULL
          ORDER BY g.reviewed_at DESC, g.id DESC LIMIT $1`
      : `SELECT ${columns} FROM break_glass g WHERE g.reviewed_at IS NULL
          ORDER BY g.started_at, g.id LIMIT $1`,
    [options.limit],
  );
  return rows;
}

/**
 * Closes an override's review with the reviewer's note. Reviewed once: a second review is a
 * CONFLICT, and nobody reviews their own override.
 */
export async function reviewBreakGlass(
  db: Queryable,
  input: { id: string; reviewedBy: string; note: string; at: Date },
): Promise<BreakGlassRow> {
  const { rows } = await db.query<BreakGlassRow>(
    `UPDATE break_glass g SET reviewed_by = $2, reviewed_at = $3, review_note = $4
      WHERE g.id = $1::bigint AND g.reviewed_at IS NULL AND g.user_id <> $2
      RETURNING ${columns}`,
    [input.id, input.reviewedBy, input.at, input.note],
  );
  if (rows[0]) return rows[0];

  const existing = await db.query<{ reviewed: boolean; own: boolean }>(
    `SELECT reviewed_at IS NOT NULL AS reviewed, user_id = $2 AS own
       FROM break_glass WHERE id = $1::bigint`,
    [input.id, input.reviewedBy],
  );
  const found = existing.rows[0];
  if (!found) throw new MedaxisError(ErrorCode.notFound, 'unknown_break_glass', 'No such entry.');
  if (found.reviewed) {
    throw new MedaxisError(ErrorCode.conflict, 'already_reviewed', 'Already reviewed.');
  }
  throw new MedaxisError(ErrorCode.conflict, 'own_break_glass', 'Someone else must review this.');
}
