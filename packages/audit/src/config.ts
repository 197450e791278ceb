import { readFileSync } from 'node:fs';

import { z } from 'zod';

const schema = z
  .object({
    $comment: z.string().optional(),
    /** How long audit rows are kept: sealed segments whose newest row is older go. */
    retentionYears: z.number().int().min(1).max(100),
    /** Rows per sealed segment at most (the seal job runs hourly; a busy hour may need more). */
    segmentMaxRows: z.number().int().min(100).max(10_000_000),
    compaction: z
      .object({
        /** Segments are compacted once their newest row is this old. */
        afterHours: z.number().min(0),
        /** Repeated reads below this count stay as they are. */
        minRun: z.number().int().min(2),
      })
      .strict(),
  })
  .strict();

export type AuditConfig = z.infer<typeof schema>;

/** Reads and checks config/audit.json; a problem names the file and the key. */
export function loadAuditConfig(file: string): AuditConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: cannot read as JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}
