import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { AuditWriter, loadAuditConfig, loadSealChain, verifyAuditLog } from '@medaxis/audit';
import { createDb, type Db } from '@medaxis/db';
import { createTestDatabase, repoRoot, type TestDatabase } from '@medaxis/db/testing';
import { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { auditJobs, registerAuditJobs } from '../src/audit-jobs.ts';
import { createLogger } from '../src/logger.ts';

let test: TestDatabase;
let appDb: Db;
const day = 86_400_000;

beforeAll(async () => {
  test = await createTestDatabase('worker_audit');
  appDb = createDb(test.url, { max: 4, role: 'medaxis_app' });
  // Two days ago a clinician read one patient twenty times.
  const writer = new AuditWriter(appDb);
  const patientId = randomUUID();
  for (let index = 0; index < 20; index++) {
    await writer.record({
      at: new Date(Date.now() - 2 * day + index * 60_000),
      source: 'api',
      operation: 'patients.get',
      action: 'read',
      actor: { kind: 'user', id: 'u-1', roles: ['clinician'] },
      purpose: 'treatment',
      resourceType: 'patient',
      resourceId: patientId,
      patientIds: [patientId],
      outcome: 'allowed',
      requestId: randomUUID(),
    });
  }
});

afterAll(async () => {
  await appDb?.end();
  await test?.drop();
});

describe('audit jobs', () => {
  it('seal as the application role, compact as the owner, scheduled in the hospital zone', async () => {
    const log = createLogger(
      'silent',
      new Writable({ write: (_chunk, _encoding, done) => done() }),
    );
    const boss = new PgBoss({ connectionString: test.url });
    boss.on('error', () => {});
    await boss.start();
    try {
      await registerAuditJobs({
        boss,
        db: appDb,
        maintenanceDb: test.db,
        log,
        timeZone: 'Europe/Berlin',
        config: loadAuditConfig(join(repoRoot, 'config/audit.json')),
      });

      await boss.send(auditJobs.seal.name, {});
      await expect
        .poll(async () => (await loadSealChain(test.db)).map((entry) => entry.kind), {
          timeout: 20_000,
          interval: 250,
        })
        .toEqual(['seal']);

      await boss.send(auditJobs.compact.name, {});
      await expect
        .poll(async () => (await loadSealChain(test.db)).map((entry) => entry.kind), {
          timeout: 20_000,
          interval: 250,
        })
        .toEqual(['seal', 'compaction']);
      expect(await verifyAuditLog(test.db)).toMatchObject({ ok: true, compactedRows: 20 });

      const [schedule] = await boss.getSchedules(auditJobs.seal.name);
      expect(schedule).toMatchObject({ cron: auditJobs.seal.cron, timezone: 'Europe/Berlin' });
    } finally {
      await boss.stop({ graceful: false });
    }
  });
});
