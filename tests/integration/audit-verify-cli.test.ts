import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';

import { AuditWriter, sealAuditLog } from '@medaxis/audit';
import { createTestDatabase, repoRoot, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let test: TestDatabase;

/** Runs the real CLI as a user would; resolves with its exit code and output. */
function medaxis(...args: string[]) {
  return new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(
      'npx',
      ['medaxis', ...args],
      { cwd: repoRoot, env: { ...process.env, DATABASE_URL: test.url } },
      (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
    );
  });
}

/** 25 reads, sealed in segments of 10, 10 and 5. */
beforeAll(async () => {
  test = await createTestDatabase('audit_verify_cli');
  const writer = new AuditWriter(test.db);
  for (let index = 0; index < 25; index++) {
    const patientId = randomUUID();
    await writer.record({
      source: 'api',
      operation: 'patients.get',
      action: 'read',
      actor: { kind: 'user', id: 'u-clinician-1', roles: ['clinician'] },
      purpose: 'treatment',
      resourceType: 'patient',
      resourceId: patientId,
      patientIds: [patientId],
      outcome: 'allowed',
      requestId: randomUUID(),
      clientAddress: '127.0.0.1',
    });
  }
  await sealAuditLog(test.db, { maxRows: 10 });
});
afterAll(async () => {
  await test?.drop();
});

describe('medaxis audit verify', () => {
  it('says the log is intact and exits 0', async () => {
    const plain = await medaxis('audit', 'verify');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^audit log intact: 25 rows/);

    // A log this small is walked on the CLI's own thread whatever --workers asks.
    const json = await medaxis('audit', 'verify', '--json', '--workers', '2');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, rows: 25, seals: 3, workers: 0 });
  });

  it('names the first broken link and exits 1 once a sealed row is edited', async () => {
    // As someone with the owner's rights would: the append-only triggers off, then an edit.
    await test.db.query(`ALTER TABLE audit_event DISABLE TRIGGER USER`);
    await test.db.query(`UPDATE audit_event SET purpose = 'research' WHERE id IN (14, 22)`);

    const { code, stdout } = await medaxis('audit', 'verify', '--workers', '0');
    expect(code).toBe(1);
    expect(stdout).toMatch(/^audit log BROKEN: first broken link at row 14: .*\(hash_mismatch\)/);
    expect(stdout).toContain('2 problem(s)');
  });
});
