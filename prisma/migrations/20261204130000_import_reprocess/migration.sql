-- Reprocessing of kept import rejections (docs/imports.md, "Reprocessing rejected rows").
-- A rejection is open while reprocessed_at is null. Reprocessing closes it with an outcome:
-- applied (the row, or the edited row kept in applied_row, went in), or rejected (a new
-- rejection holds the attempted row and its new reason, linked back by reprocess_of, its
-- attempt one higher). The original row is never changed.

-- AlterTable
ALTER TABLE "import_rejection" ADD COLUMN     "outcome" TEXT,
ADD COLUMN     "reprocessed_by" TEXT,
ADD COLUMN     "applied_row" JSONB,
ADD COLUMN     "attempt" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "reprocess_of" BIGINT,
ADD COLUMN     "kept_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- Rows kept before this migration were kept when their run started.
UPDATE "import_rejection" r SET "kept_at" = u."started_at" FROM "import_run" u
 WHERE u."id" = r."run_id";

-- Rows a locations re-run already resolved were applied by that run.
UPDATE "import_rejection" SET "outcome" = 'applied', "reprocessed_by" = 'import run'
 WHERE "reprocessed_at" IS NOT NULL;

ALTER TABLE "import_rejection" ADD CONSTRAINT "import_rejection_outcome_check"
  CHECK ("outcome" IN ('applied', 'rejected') AND "reprocessed_at" IS NOT NULL
         OR "outcome" IS NULL AND "reprocessed_at" IS NULL);

-- CreateIndex
-- One retry per rejection: two reprocessings of the same row cannot both add a new rejection.
CREATE UNIQUE INDEX "import_rejection_reprocess_of_key" ON "import_rejection"("reprocess_of");

-- AddForeignKey
ALTER TABLE "import_rejection" ADD CONSTRAINT "import_rejection_reprocess_of_fkey" FOREIGN KEY ("reprocess_of") REFERENCES "import_rejection"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
