import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import type { Db } from '@medaxis/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AuditWriter, verifyAuditLog } from '../src/index.ts';
import { appRoleDb, readEvent } from './support.ts';

let test: TestDatabase;
let app: Db;

beforeAll(async () => {
  test = await createTestDatabase('audit_role');
  app = appRoleDb(test.url);
});
afterAll(async () => {
  await app.end();
  await test.drop();
});

describe('the application database role (medaxis_app)', () => {
  it('appends audit rows through the writer and reads them', async () => {
    const writer = new AuditWriter(app);
    await writer.record(readEvent());
    await writer.record(readEvent());
    const { rows } = await app.query<{ user: string }>(`SELECT current_user AS user`);
    expect(rows[0]!.user).toBe('medaxis_app');
    expect((await verifyAuditLog(app)).ok).toBe(true);
  });

  it('cannot UPDATE, DELETE or TRUNCATE audit rows', async () => {
    await expect(app.query(`UPDATE audit_event SET purpose = 'audit'`)).rejects.toThrow(
      /permission denied/,
    );
    await expect(app.query(`DELETE FROM audit_event`)).rejects.toThrow(/permission denied/);
    await expect(app.query(`TRUNCATE audit_event`)).rejects.toThrow(/permission denied/);
    await expect(app.query(`DELETE FROM audit_seal`)).rejects.toThrow(/permission denied/);
    await expect(app.query(`UPDATE audit_summary SET count = 0`)).rejects.toThrow(
      /permission denied/,
    );
  });

  it('cannot move the chain head back to overwrite rows', async () => {
    await expect(app.query(`UPDATE audit_head SET last_id = 0`)).rejects.toThrow(
      /only moves forward/,
    );
  });

  it('still writes the operational tables of every migration', async () => {
    const { rows } = await app.query<{ id: string }>(
      `INSERT INTO patient DEFAULT VALUES RETURNING id::text AS id`,
    );
    await app.query(`DELETE FROM patient WHERE id = $1`, [rows[0]!.id]);
  });
});
