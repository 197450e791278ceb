-- CreateTable
CREATE TABLE "census_snapshot" (
    "id" BIGSERIAL NOT NULL,
    "department_id" INTEGER NOT NULL,
    "taken_at" TIMESTAMPTZ(3) NOT NULL,
    "occupied" INTEGER NOT NULL,
    "beds" INTEGER NOT NULL,

    CONSTRAINT "census_snapshot_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "census_snapshot_taken_at_idx" ON "census_snapshot"("taken_at");

-- CreateIndex
CREATE UNIQUE INDEX "census_snapshot_department_id_taken_at_key" ON "census_snapshot"("department_id", "taken_at");

-- AddForeignKey
ALTER TABLE "census_snapshot" ADD CONSTRAINT "census_snapshot_department_id_fkey" FOREIGN KEY ("department_id") REFERENCES "department"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- ---------------------------------------------------------------------------------------------
-- Rules Prisma cannot express (hand-written, kept below the generated part).
-- ---------------------------------------------------------------------------------------------

-- One bed holds one patient at an instant, so a department's census never exceeds its beds.
ALTER TABLE "census_snapshot"
  ADD CONSTRAINT "census_snapshot_counts" CHECK ("occupied" >= 0 AND "occupied" <= "beds");
