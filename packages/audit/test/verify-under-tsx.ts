/**
 * Verifies the log at the URL given, on two worker threads, and prints the report as JSON:
 * the parallel test runs it under tsx (`node --import tsx`), as the CLI and the server run.
 */
import { createDb } from '@medaxis/db';

import { verifyAuditLog } from '../src/index.ts';

const db = createDb(process.argv[2]!, { max: 2 });
try {
  const report = await verifyAuditLog(db, { workers: 2, minRowsPerWorker: 1 });
  console.log(JSON.stringify(report));
} finally {
  await db.end();
}
