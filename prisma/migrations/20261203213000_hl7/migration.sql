-- CreateEnum
CREATE TYPE "hl7_message_status" AS ENUM ('received', 'applied', 'rejected', 'unsupported', 'duplicate', 'batch');

-- CreateTable
CREATE TABLE "hl7_message" (
    "id" BIGSERIAL NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "peer" TEXT NOT NULL,
    "raw" BYTEA NOT NULL,
    "payload_hash" TEXT NOT NULL,
    "batch_id" BIGINT,
    "batch_index" INTEGER,
    "control_id" TEXT,
    "message_type" TEXT,
    "event_type" TEXT,
    "event_type_rule" TEXT,
    "event_time" TIMESTAMPTZ(3),
    "sending_facility" TEXT,
    "status" "hl7_message_status" NOT NULL DEFAULT 'received',
    "ack_code" TEXT,
    "error_code" TEXT,
    "error_reason" TEXT,
    "error_message" TEXT,
    "note" TEXT,
    "z_segments" JSONB,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "processed_at" TIMESTAMPTZ(3),
    "applied_event_id" BIGINT,
    "duplicate_of" BIGINT,

    CONSTRAINT "hl7_message_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "hl7_patient_alias" (
    "authority" TEXT NOT NULL,
    "mrn" TEXT NOT NULL,
    "patient_id" UUID NOT NULL,
    "prior_patient_id" UUID,
    "message_id" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "hl7_patient_alias_pkey" PRIMARY KEY ("authority","mrn")
);

-- CreateIndex
CREATE INDEX "hl7_message_status_id_idx" ON "hl7_message"("status", "id");

-- CreateIndex
CREATE INDEX "hl7_message_payload_hash_idx" ON "hl7_message"("payload_hash");

-- CreateIndex
CREATE INDEX "hl7_message_control_id_idx" ON "hl7_message"("control_id");

-- CreateIndex
CREATE INDEX "hl7_message_batch_id_idx" ON "hl7_message"("batch_id");

-- CreateIndex
CREATE INDEX "hl7_patient_alias_patient_id_idx" ON "hl7_patient_alias"("patient_id");


-- ---------------------------------------------------------------------------------------------
-- Rules Prisma cannot express (hand-written, kept below the generated part).
-- ---------------------------------------------------------------------------------------------
ALTER TABLE "hl7_message"
  ADD CONSTRAINT "hl7_message_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "hl7_message"("id"),
  ADD CONSTRAINT "hl7_message_duplicate_of_fkey"
    FOREIGN KEY ("duplicate_of") REFERENCES "hl7_message"("id");

-- An answered message says how it was answered: AA, AE or AR (HL7 table 0008).
ALTER TABLE "hl7_message"
  ADD CONSTRAINT "hl7_message_ack_code_known" CHECK ("ack_code" IS NULL OR "ack_code" IN ('AA', 'AE', 'AR')),
  ADD CONSTRAINT "hl7_message_applied_is_aa" CHECK ("status" <> 'applied' OR "ack_code" = 'AA'),
  ADD CONSTRAINT "hl7_message_rejected_has_reason"
    CHECK ("status" <> 'rejected' OR ("error_code" IS NOT NULL AND "error_reason" IS NOT NULL));

-- What was received stays exactly as received: the raw bytes and their hash never change, and
-- no row is ever deleted (the outcome columns do change when a message is reprocessed).
-- Prisma splits migration scripts at every semicolon, dollar quotes included, so the body is an
-- E-string with each semicolon written as \x3b.
CREATE FUNCTION "hl7_message_keep_raw"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  IF TG_OP = ''DELETE'' THEN
    RAISE EXCEPTION ''hl7_message rows are never deleted''\x3b
  END IF\x3b
  IF NEW.raw IS DISTINCT FROM OLD.raw OR NEW.payload_hash IS DISTINCT FROM OLD.payload_hash
     OR NEW.received_at IS DISTINCT FROM OLD.received_at THEN
    RAISE EXCEPTION ''hl7_message raw bytes are kept as received''\x3b
  END IF\x3b
  RETURN NEW\x3b
END';

CREATE TRIGGER "hl7_message_keep_raw" BEFORE UPDATE OR DELETE ON "hl7_message"
  FOR EACH ROW EXECUTE FUNCTION "hl7_message_keep_raw"();

ALTER TABLE "hl7_patient_alias"
  ADD CONSTRAINT "hl7_patient_alias_patient_id_fkey" FOREIGN KEY ("patient_id") REFERENCES "patient"("id"),
  ADD CONSTRAINT "hl7_patient_alias_prior_patient_id_fkey"
    FOREIGN KEY ("prior_patient_id") REFERENCES "patient"("id"),
  ADD CONSTRAINT "hl7_patient_alias_message_id_fkey"
    FOREIGN KEY ("message_id") REFERENCES "hl7_message"("id");
