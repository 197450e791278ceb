-- CreateEnum
CREATE TYPE "consent_action" AS ENUM ('grant', 'restrict', 'revoke');

-- CreateTable
CREATE TABLE "patient_consent" (
    "id" BIGSERIAL NOT NULL,
    "patient_id" UUID NOT NULL,
    "policy" TEXT NOT NULL,
    "action" "consent_action" NOT NULL,
    "valid_from" TIMESTAMPTZ(3) NOT NULL,
    "valid_to" TIMESTAMPTZ(3),
    "recorded_by" TEXT NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "patient_consent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "break_glass" (
    "id" BIGSERIAL NOT NULL,
    "user_id" TEXT NOT NULL,
    "patient_id" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "reviewed_by" TEXT,
    "reviewed_at" TIMESTAMPTZ(3),
    "review_note" TEXT,

    CONSTRAINT "break_glass_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "patient_consent_patient_id_policy_recorded_at_idx" ON "patient_consent"("patient_id", "policy", "recorded_at");

-- CreateIndex
CREATE INDEX "break_glass_user_id_expires_at_idx" ON "break_glass"("user_id", "expires_at");

-- CreateIndex
CREATE INDEX "break_glass_patient_id_idx" ON "break_glass"("patient_id");


-- AddForeignKey (no relation field on Patient: the operational model stays as it was)
ALTER TABLE "patient_consent" ADD CONSTRAINT "patient_consent_patient_id_fkey" FOREIGN KEY ("patient_id") REFERENCES "patient"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "break_glass" ADD CONSTRAINT "break_glass_patient_id_fkey" FOREIGN KEY ("patient_id") REFERENCES "patient"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- ---------------------------------------------------------------------------------------------
-- Rules Prisma cannot express (hand-written, kept below the generated part).
-- ---------------------------------------------------------------------------------------------

-- A consent period is [valid_from, valid_to): one that ends before it starts is refused here
-- too, whatever wrote it (the API refuses it first, with a clear message).
ALTER TABLE "patient_consent"
  ADD CONSTRAINT "patient_consent_period_ordered"
  CHECK ("valid_to" IS NULL OR "valid_to" > "valid_from"),
  ADD CONSTRAINT "patient_consent_policy_form" CHECK ("policy" ~ '^[a-z_]+$'),
  ADD CONSTRAINT "patient_consent_recorded_by_present" CHECK (length(btrim("recorded_by")) > 0);

-- An override always has a reason and an end, and a review is complete or absent.
ALTER TABLE "break_glass"
  ADD CONSTRAINT "break_glass_period_ordered" CHECK ("expires_at" > "started_at"),
  ADD CONSTRAINT "break_glass_reason_present" CHECK (length(btrim("reason")) > 0),
  ADD CONSTRAINT "break_glass_review_complete"
  CHECK (("reviewed_at" IS NULL) = ("reviewed_by" IS NULL));

-- The compliance officers' review queue: overrides not yet reviewed, oldest first.
CREATE INDEX "break_glass_review_queue_idx" ON "break_glass" ("started_at")
  WHERE "reviewed_at" IS NULL;
