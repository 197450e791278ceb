-- AlterTable
ALTER TABLE "department" ADD COLUMN     "organization_id" UUID;

-- AlterTable
ALTER TABLE "patient" ADD COLUMN     "merged_into_id" UUID;

-- AlterTable
ALTER TABLE "patient_identity" ADD COLUMN     "contacts" JSONB,
ADD COLUMN     "deceased_at" TIMESTAMPTZ(3),
ADD COLUMN     "managing_organization_id" UUID,
ADD COLUMN     "names" JSONB,
ADD COLUMN     "telecom" JSONB;

-- AlterTable
ALTER TABLE "encounter" ADD COLUMN     "attending_id" UUID,
ADD COLUMN     "organization_id" UUID;

-- CreateTable
CREATE TABLE "patient_identifier" (
    "id" BIGSERIAL NOT NULL,
    "patient_id" UUID NOT NULL,
    "system" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "type" TEXT,

    CONSTRAINT "patient_identifier_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "organization" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "type" TEXT,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "identifiers" JSONB NOT NULL DEFAULT '[]',
    "telecom" JSONB,
    "address" JSONB,
    "part_of_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "organization_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "practitioner" (
    "id" UUID NOT NULL,
    "family_name" TEXT,
    "given_name" TEXT,
    "prefix" TEXT,
    "sex" TEXT,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "identifiers" JSONB NOT NULL DEFAULT '[]',
    "telecom" JSONB,
    "address" JSONB,
    "specialty" TEXT,
    "organization_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "practitioner_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "patient_identifier_patient_id_idx" ON "patient_identifier"("patient_id");

-- CreateIndex
CREATE INDEX "patient_identifier_value_idx" ON "patient_identifier"("value");

-- CreateIndex
CREATE UNIQUE INDEX "patient_identifier_system_value_key" ON "patient_identifier"("system", "value");

-- AddForeignKey
ALTER TABLE "department" ADD CONSTRAINT "department_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organization"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "patient_identity" ADD CONSTRAINT "patient_identity_managing_organization_id_fkey" FOREIGN KEY ("managing_organization_id") REFERENCES "organization"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "patient_identifier" ADD CONSTRAINT "patient_identifier_patient_id_fkey" FOREIGN KEY ("patient_id") REFERENCES "patient"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "practitioner" ADD CONSTRAINT "practitioner_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organization"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "encounter" ADD CONSTRAINT "encounter_attending_id_fkey" FOREIGN KEY ("attending_id") REFERENCES "practitioner"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "encounter" ADD CONSTRAINT "encounter_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organization"("id") ON DELETE SET NULL ON UPDATE CASCADE;


-- ---- written by hand -------------------------------------------------------------------------

-- A merged patient points at its survivor; never at itself.
ALTER TABLE "patient" ADD CONSTRAINT "patient_merged_into_id_fkey"
  FOREIGN KEY ("merged_into_id") REFERENCES "patient"("id") ON DELETE RESTRICT;
ALTER TABLE "patient" ADD CONSTRAINT "patient_not_merged_into_itself"
  CHECK ("merged_into_id" IS NULL OR "merged_into_id" <> "id");

-- Every MRN already known becomes the first identifier of its patient, so search and feeds
-- resolve all identifiers through one table.
INSERT INTO "patient_identifier" ("patient_id", "system", "value", "type")
SELECT "patient_id", "authority", "mrn", 'MR' FROM "patient_identity"
ON CONFLICT DO NOTHING;

-- Patients A40 already merged away carry their survivor.
UPDATE "patient" p SET "merged_into_id" = a."patient_id"
  FROM "hl7_patient_alias" a
 WHERE a."prior_patient_id" = p."id" AND a."patient_id" <> p."id";

-- Name search (prefix, any case) without a sequential scan of the identity table.
CREATE INDEX "patient_identity_family_name_idx" ON "patient_identity" (lower("family_name") text_pattern_ops);
CREATE INDEX "patient_identity_given_name_idx" ON "patient_identity" (lower("given_name") text_pattern_ops);
CREATE INDEX "patient_identity_birth_date_idx" ON "patient_identity" ("birth_date");
CREATE INDEX "encounter_attending_id_idx" ON "encounter" ("attending_id");
