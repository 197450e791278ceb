
-- CreateEnum
CREATE TYPE "department_kind" AS ENUM ('emergency', 'ward', 'icu', 'maternity', 'surgery', 'pediatrics', 'clinic', 'other');

-- CreateEnum
CREATE TYPE "bed_status" AS ENUM ('free', 'occupied', 'housekeeping', 'cleaning', 'blocked', 'reserved');

-- CreateEnum
CREATE TYPE "encounter_class" AS ENUM ('inpatient', 'emergency', 'outpatient', 'observation');

-- CreateEnum
CREATE TYPE "encounter_status" AS ENUM ('planned', 'in_progress', 'finished', 'cancelled');

-- CreateTable
CREATE TABLE "site" (
    "id" SERIAL NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "time_zone" TEXT NOT NULL,

    CONSTRAINT "site_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "department" (
    "id" SERIAL NOT NULL,
    "site_id" INTEGER NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "department_kind" NOT NULL,
    "sort_order" INTEGER NOT NULL DEFAULT 0,
    "needs_review" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "department_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "room" (
    "id" SERIAL NOT NULL,
    "department_id" INTEGER NOT NULL,
    "code" TEXT NOT NULL,

    CONSTRAINT "room_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bed" (
    "id" SERIAL NOT NULL,
    "room_id" INTEGER NOT NULL,
    "code" TEXT NOT NULL,
    "type" TEXT NOT NULL DEFAULT 'standard',
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "status" "bed_status" NOT NULL DEFAULT 'free',
    "status_since" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "status_reason" TEXT,
    "isolation" BOOLEAN NOT NULL DEFAULT false,
    "encounter_id" UUID,
    "needs_review" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "bed_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "patient" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "patient_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "patient_identity" (
    "patient_id" UUID NOT NULL,
    "mrn" TEXT NOT NULL,
    "authority" TEXT NOT NULL,
    "family_name" TEXT,
    "given_name" TEXT,
    "birth_date" DATE,
    "sex" TEXT,
    "address" JSONB,

    CONSTRAINT "patient_identity_pkey" PRIMARY KEY ("patient_id")
);

-- CreateTable
CREATE TABLE "encounter" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "patient_id" UUID NOT NULL,
    "class" "encounter_class" NOT NULL,
    "status" "encounter_status" NOT NULL,
    "department_id" INTEGER,
    "admit_decision_at" TIMESTAMPTZ(3),
    "admitted_at" TIMESTAMPTZ(3),
    "discharged_at" TIMESTAMPTZ(3),
    "expected_discharge_at" TIMESTAMPTZ(3),
    "source_system" TEXT,
    "source_ref" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "encounter_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bed_stay" (
    "id" BIGSERIAL NOT NULL,
    "encounter_id" UUID NOT NULL,
    "bed_id" INTEGER NOT NULL,
    "start_at" TIMESTAMPTZ(3) NOT NULL,
    "end_at" TIMESTAMPTZ(3),
    "end_reason" TEXT,
    "cancelled" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "bed_stay_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bed_status_history" (
    "id" BIGSERIAL NOT NULL,
    "bed_id" INTEGER NOT NULL,
    "status" "bed_status" NOT NULL,
    "reason" TEXT,
    "encounter_id" UUID,
    "start_at" TIMESTAMPTZ(3) NOT NULL,
    "end_at" TIMESTAMPTZ(3),
    "event_id" BIGINT,

    CONSTRAINT "bed_status_history_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "event" (
    "id" BIGINT NOT NULL,
    "type" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "source" TEXT NOT NULL,
    "department_id" INTEGER,
    "bed_id" INTEGER,
    "encounter_id" UUID,
    "payload" JSONB NOT NULL,

    CONSTRAINT "event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "event_counter" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "last_id" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "event_counter_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "import_run" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "applied" INTEGER NOT NULL DEFAULT 0,
    "rejected" INTEGER NOT NULL DEFAULT 0,
    "report" JSONB,

    CONSTRAINT "import_run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "import_rejection" (
    "id" BIGSERIAL NOT NULL,
    "run_id" INTEGER NOT NULL,
    "file" TEXT NOT NULL,
    "row_number" INTEGER NOT NULL,
    "row" JSONB NOT NULL,
    "code" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "reprocessed_at" TIMESTAMPTZ(3),

    CONSTRAINT "import_rejection_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "site_code_key" ON "site"("code");

-- CreateIndex
CREATE UNIQUE INDEX "department_code_key" ON "department"("code");

-- CreateIndex
CREATE UNIQUE INDEX "room_department_id_code_key" ON "room"("department_id", "code");

-- CreateIndex
CREATE UNIQUE INDEX "bed_code_key" ON "bed"("code");

-- CreateIndex
CREATE INDEX "bed_encounter_id_idx" ON "bed"("encounter_id");

-- CreateIndex
CREATE UNIQUE INDEX "patient_identity_authority_mrn_key" ON "patient_identity"("authority", "mrn");

-- CreateIndex
CREATE INDEX "encounter_patient_id_idx" ON "encounter"("patient_id");

-- CreateIndex
CREATE UNIQUE INDEX "encounter_source_system_source_ref_key" ON "encounter"("source_system", "source_ref");

-- CreateIndex
CREATE INDEX "bed_stay_bed_id_start_at_idx" ON "bed_stay"("bed_id", "start_at");

-- CreateIndex
CREATE INDEX "bed_stay_encounter_id_start_at_idx" ON "bed_stay"("encounter_id", "start_at");

-- CreateIndex
CREATE INDEX "bed_status_history_bed_id_start_at_idx" ON "bed_status_history"("bed_id", "start_at");

-- CreateIndex
CREATE INDEX "event_department_id_id_idx" ON "event"("department_id", "id");

-- CreateIndex
CREATE INDEX "import_rejection_run_id_idx" ON "import_rejection"("run_id");

-- AddForeignKey
ALTER TABLE "department" ADD CONSTRAINT "department_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "room" ADD CONSTRAINT "room_department_id_fkey" FOREIGN KEY ("department_id") REFERENCES "department"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bed" ADD CONSTRAINT "bed_room_id_fkey" FOREIGN KEY ("room_id") REFERENCES "room"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bed" ADD CONSTRAINT "bed_encounter_id_fkey" FOREIGN KEY ("encounter_id") REFERENCES "encounter"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "patient_identity" ADD CONSTRAINT "patient_identity_patient_id_fkey" FOREIGN KEY ("patient_id") REFERENCES "patient"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "encounter" ADD CONSTRAINT "encounter_patient_id_fkey" FOREIGN KEY ("patient_id") REFERENCES "patient"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bed_stay" ADD CONSTRAINT "bed_stay_encounter_id_fkey" FOREIGN KEY ("encounter_id") REFERENCES "encounter"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bed_stay" ADD CONSTRAINT "bed_stay_bed_id_fkey" FOREIGN KEY ("bed_id") REFERENCES "bed"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bed_status_history" ADD CONSTRAINT "bed_status_history_bed_id_fkey" FOREIGN KEY ("bed_id") REFERENCES "bed"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "import_rejection" ADD CONSTRAINT "import_rejection_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "import_run"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- ---------------------------------------------------------------------------------------------
-- Rules Prisma cannot express (hand-written, kept below the generated part).
-- ---------------------------------------------------------------------------------------------
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- A bed stay is the half-open interval [start_at, end_at), an open stay runs to infinity.
ALTER TABLE "bed_stay"
  ADD CONSTRAINT "bed_stay_interval_ordered" CHECK ("end_at" IS NULL OR "end_at" >= "start_at");

-- Invariant: never two patients in one bed at the same instant.
ALTER TABLE "bed_stay"
  ADD CONSTRAINT "bed_stay_no_double_booking"
  EXCLUDE USING gist ("bed_id" WITH =, tstzrange("start_at", "end_at") WITH &&)
  WHERE (NOT "cancelled");

-- Invariant: an encounter is in at most one bed at a time.
ALTER TABLE "bed_stay"
  ADD CONSTRAINT "bed_stay_one_bed_per_encounter"
  EXCLUDE USING gist ("encounter_id" WITH =, tstzrange("start_at", "end_at") WITH &&)
  WHERE (NOT "cancelled");

-- Census at an instant is a stabbing query on these intervals.
CREATE INDEX "bed_stay_period_idx" ON "bed_stay" USING gist (tstzrange("start_at", "end_at"))
  WHERE (NOT "cancelled");

ALTER TABLE "bed_status_history"
  ADD CONSTRAINT "bed_status_history_interval_ordered"
  CHECK ("end_at" IS NULL OR "end_at" >= "start_at");

-- An occupied or reserved bed names its encounter, no other status does.
ALTER TABLE "bed"
  ADD CONSTRAINT "bed_encounter_matches_status"
  CHECK (("status" IN ('occupied', 'reserved')) = ("encounter_id" IS NOT NULL));

ALTER TABLE "bed"
  ADD CONSTRAINT "bed_blocked_has_reason"
  CHECK ("status" <> 'blocked' OR "status_reason" IS NOT NULL);

-- Exactly one counter row: event ids are taken from it under its row lock (see event model).
ALTER TABLE "event_counter" ADD CONSTRAINT "event_counter_singleton" CHECK ("id" = 1);
INSERT INTO "event_counter" ("id", "last_id") VALUES (1, 0);
