-- The feed looks for an applied copy of every message it claims (exact retransmissions are
-- acknowledged, not applied again): payload_hash = $hash AND status = 'applied', lowest id.
-- With the plain payload_hash index, a planner without statistics on hl7_message (a young
-- table, or a server where ANALYZE has not run) ANDed it with the (status, id) index and read
-- every applied message's entry: measured 0.55 ms at 20,000 messages, growing with the log.
-- This partial index answers the look on its own, in id order, whatever the statistics say;
-- nothing else reads payload_hash through an index.
DROP INDEX "hl7_message_payload_hash_idx";

CREATE INDEX "hl7_message_applied_copy_idx" ON "hl7_message" ("payload_hash", "id")
  WHERE "status" = 'applied';
