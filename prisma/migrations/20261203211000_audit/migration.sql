-- CreateTable
CREATE TABLE "audit_event" (
    "id" BIGINT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "source" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "actor_kind" TEXT NOT NULL,
    "actor_id" TEXT NOT NULL,
    "roles" TEXT[],
    "device_id" TEXT,
    "purpose" TEXT NOT NULL,
    "resource_type" TEXT NOT NULL,
    "resource_id" TEXT,
    "patient_ids" UUID[],
    "outcome" TEXT NOT NULL,
    "reason" TEXT,
    "request_id" TEXT,
    "client_address" TEXT,
    "hash" BYTEA NOT NULL,

    CONSTRAINT "audit_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_head" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "last_id" BIGINT NOT NULL,
    "last_hash" BYTEA NOT NULL,

    CONSTRAINT "audit_head_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_seal" (
    "seq" BIGINT NOT NULL,
    "kind" TEXT NOT NULL,
    "first_id" BIGINT NOT NULL,
    "last_id" BIGINT NOT NULL,
    "row_count" BIGINT NOT NULL,
    "first_at" TIMESTAMPTZ(3),
    "last_at" TIMESTAMPTZ(3),
    "root" BYTEA,
    "last_hash" BYTEA,
    "detail" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "prev_hash" BYTEA NOT NULL,
    "hash" BYTEA NOT NULL,

    CONSTRAINT "audit_seal_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "audit_summary" (
    "id" BIGSERIAL NOT NULL,
    "segment" BIGINT NOT NULL,
    "first_id" BIGINT NOT NULL,
    "last_id" BIGINT NOT NULL,
    "source" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "actor_kind" TEXT NOT NULL,
    "actor_id" TEXT NOT NULL,
    "roles" TEXT[],
    "device_id" TEXT,
    "purpose" TEXT NOT NULL,
    "resource_type" TEXT NOT NULL,
    "resource_id" TEXT,
    "patient_ids" UUID[],
    "outcome" TEXT NOT NULL,
    "reason" TEXT,
    "first_at" TIMESTAMPTZ(3) NOT NULL,
    "last_at" TIMESTAMPTZ(3) NOT NULL,
    "count" INTEGER NOT NULL,
    "ids" BIGINT[],
    "ats" TIMESTAMPTZ(3)[],
    "request_ids" TEXT[],
    "client_addresses" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_summary_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_event_at_idx" ON "audit_event"("at");

-- CreateIndex
CREATE INDEX "audit_event_actor_id_at_idx" ON "audit_event"("actor_id", "at");

-- CreateIndex
CREATE INDEX "audit_event_patient_ids_idx" ON "audit_event" USING GIN ("patient_ids");

-- CreateIndex
CREATE INDEX "audit_seal_kind_first_id_idx" ON "audit_seal"("kind", "first_id");

-- CreateIndex
CREATE INDEX "audit_summary_segment_idx" ON "audit_summary"("segment");

-- CreateIndex
CREATE INDEX "audit_summary_actor_id_first_at_idx" ON "audit_summary"("actor_id", "first_at");

-- CreateIndex
CREATE INDEX "audit_summary_patient_ids_idx" ON "audit_summary" USING GIN ("patient_ids");

-- CreateIndex
CREATE INDEX "audit_summary_ids_idx" ON "audit_summary" USING GIN ("ids");


-- ---------------------------------------------------------------------------------------------
-- Rules Prisma cannot express (hand-written, kept below the generated part). This script runs
-- as one statement batch (patches/@prisma+adapter-pg: the adapter no longer splits it at each
-- semicolon, which cut the function bodies below apart).
-- ---------------------------------------------------------------------------------------------

-- The canonical row always has both lists (possibly empty), a 32-byte hash, a known outcome.
ALTER TABLE "audit_event"
  ALTER COLUMN "roles" SET NOT NULL,
  ALTER COLUMN "patient_ids" SET NOT NULL,
  ADD CONSTRAINT "audit_event_hash_length" CHECK (octet_length("hash") = 32),
  ADD CONSTRAINT "audit_event_outcome" CHECK ("outcome" IN ('allowed', 'denied', 'error')),
  ADD CONSTRAINT "audit_event_action"
    CHECK ("action" IN ('read', 'search', 'export', 'write', 'auth'));

ALTER TABLE "audit_summary"
  ALTER COLUMN "roles" SET NOT NULL,
  ALTER COLUMN "patient_ids" SET NOT NULL,
  ALTER COLUMN "ids" SET NOT NULL,
  ALTER COLUMN "ats" SET NOT NULL,
  ALTER COLUMN "request_ids" SET NOT NULL,
  ALTER COLUMN "client_addresses" SET NOT NULL,
  ADD CONSTRAINT "audit_summary_lists" CHECK (
    cardinality("ids") = "count" AND cardinality("ats") = "count"
    AND cardinality("request_ids") = "count" AND cardinality("client_addresses") = "count");

ALTER TABLE "audit_seal"
  ADD CONSTRAINT "audit_seal_kind" CHECK ("kind" IN ('seal', 'compaction', 'retention')),
  ADD CONSTRAINT "audit_seal_range" CHECK ("first_id" <= "last_id");

-- One head row: id 0 and the genesis hash (32 zero bytes) until the first append.
ALTER TABLE "audit_head" ADD CONSTRAINT "audit_head_one_row" CHECK ("id" = 1);
INSERT INTO "audit_head" ("id", "last_id", "last_hash") VALUES (1, 0, decode(repeat('00', 32), 'hex'));

-- Append-only. UPDATE is refused on every audit table but the head. DELETE is refused too,
-- except in the maintenance path (compaction and retention, packages/audit): the transaction
-- sets medaxis.audit_maintenance, and a live row may only go when a summary holds it or a
-- retention entry of the seal chain covers it, so no fact disappears unrepresented. Seals are
-- never changed. These triggers bind the tables' owner too: only dropping them (visible in
-- the schema, and to verify through the hashes) gets around them.
CREATE FUNCTION "audit_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE FUNCTION "audit_event_guard_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('medaxis.audit_maintenance', true) = 'on' AND (
       EXISTS (SELECT 1 FROM "audit_summary" s WHERE s."ids" @> ARRAY[OLD."id"])
    OR EXISTS (SELECT 1 FROM "audit_seal" r WHERE r."kind" = 'retention'
                  AND OLD."id" BETWEEN r."first_id" AND r."last_id")) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit log is append-only: DELETE of audit row % refused', OLD."id"
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE FUNCTION "audit_summary_guard_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('medaxis.audit_maintenance', true) = 'on' AND EXISTS (
       SELECT 1 FROM "audit_seal" r WHERE r."kind" = 'retention'
          AND OLD."first_id" >= r."first_id" AND OLD."last_id" <= r."last_id") THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit log is append-only: DELETE of audit summary % refused', OLD."id"
    USING ERRCODE = 'insufficient_privilege';
END
$$;

-- The head only moves forward (a step back would let the writer reuse ids).
CREATE FUNCTION "audit_head_guard"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW."id" = OLD."id" AND NEW."last_id" >= OLD."last_id" THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit head only moves forward: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER "audit_event_no_update" BEFORE UPDATE ON "audit_event"
  FOR EACH ROW EXECUTE FUNCTION "audit_refuse_change"();
CREATE TRIGGER "audit_event_guard_delete" BEFORE DELETE ON "audit_event"
  FOR EACH ROW EXECUTE FUNCTION "audit_event_guard_delete"();
CREATE TRIGGER "audit_event_no_truncate" BEFORE TRUNCATE ON "audit_event"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_refuse_change"();

CREATE TRIGGER "audit_summary_no_update" BEFORE UPDATE ON "audit_summary"
  FOR EACH ROW EXECUTE FUNCTION "audit_refuse_change"();
CREATE TRIGGER "audit_summary_guard_delete" BEFORE DELETE ON "audit_summary"
  FOR EACH ROW EXECUTE FUNCTION "audit_summary_guard_delete"();
CREATE TRIGGER "audit_summary_no_truncate" BEFORE TRUNCATE ON "audit_summary"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_refuse_change"();

CREATE TRIGGER "audit_seal_no_change" BEFORE UPDATE OR DELETE ON "audit_seal"
  FOR EACH ROW EXECUTE FUNCTION "audit_refuse_change"();
CREATE TRIGGER "audit_seal_no_truncate" BEFORE TRUNCATE ON "audit_seal"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_refuse_change"();

CREATE TRIGGER "audit_head_guard" BEFORE UPDATE OR DELETE ON "audit_head"
  FOR EACH ROW EXECUTE FUNCTION "audit_head_guard"();
CREATE TRIGGER "audit_head_no_truncate" BEFORE TRUNCATE ON "audit_head"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_refuse_change"();

-- The application's database role (server and worker connect with `role=medaxis_app`, see
-- packages/db createDb): everything it needs on the operational tables, but on the audit log
-- only INSERT and SELECT (and moving the head). Roles belong to the cluster, not the database,
-- so it is created only where it does not exist yet. Tables of later migrations get the same
-- grants through the default privileges.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'medaxis_app') THEN
    CREATE ROLE medaxis_app NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object THEN
  -- Another database of the cluster created it at the same moment: just as good.
  NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO medaxis_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO medaxis_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO medaxis_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO medaxis_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO medaxis_app;

REVOKE UPDATE, DELETE, TRUNCATE ON "audit_event", "audit_summary", "audit_seal" FROM medaxis_app;
REVOKE INSERT, DELETE, TRUNCATE ON "audit_head" FROM medaxis_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON "_prisma_migrations" FROM medaxis_app;
