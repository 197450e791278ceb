import { randomUUID } from 'node:crypto';

import { createDb, type Db } from '@medaxis/db';
import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';

import type { AuditEvent } from '../src/index.ts';

/** A read of one patient by a clinician, as the API would record it. */
export function readEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  const patientId = overrides.patientIds ? undefined : randomUUID();
  return {
    source: 'api',
    operation: 'patients.get',
    action: 'read',
    actor: { kind: 'user', id: 'u-clinician-1', roles: ['clinician'] },
    purpose: 'treatment',
    resourceType: 'patient',
    resourceId: patientId ?? null,
    patientIds: patientId ? [patientId] : [],
    outcome: 'allowed',
    requestId: randomUUID(),
    clientAddress: '127.0.0.1',
    ...overrides,
  };
}

const auditTables = ['audit_event', 'audit_summary', 'audit_seal'] as const;

/**
 * A copy of the audit log of `source` in a new database, with the append-only triggers
 * switched off there, so a test can tamper with it the way someone with the owner's rights
 * and no scruples could.
 */
export async function copyOfLog(source: Db): Promise<TestDatabase & { tamper: Db }> {
  const copy = await createTestDatabase('audit_copy');
  for (const table of auditTables) {
    const { rows } = await source.query<{ rows: unknown }>(
      `SELECT coalesce(json_agg(t), '[]') AS rows FROM ${table} t`,
    );
    await copy.db.query(
      `INSERT INTO ${table} SELECT * FROM json_populate_recordset(null::${table}, $1)`,
      [JSON.stringify(rows[0]!.rows)],
    );
  }
  const head = await source.query<{ lastId: string; lastHash: Buffer }>(
    `SELECT last_id::text AS "lastId", last_hash AS "lastHash" FROM audit_head`,
  );
  await copy.db.query(`UPDATE audit_head SET last_id = $1, last_hash = $2`, [
    head.rows[0]!.lastId,
    head.rows[0]!.lastHash,
  ]);
  for (const table of [...auditTables, 'audit_head']) {
    await copy.db.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
  }
  return { ...copy, tamper: copy.db };
}

/** A pool on the test database acting as the application's role, as server and worker do. */
export function appRoleDb(url: string): Db {
  return createDb(url, { max: 2, role: 'medaxis_app' });
}
