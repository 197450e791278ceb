-- Every bed command closes the bed's current status interval (end_at IS NULL) and a cancel
-- deletes it; both looked it up through (bed_id, start_at), reading every interval the bed
-- ever had: a few hundred a year per bed, so the cost of a command grew with the hospital's
-- history. This index holds the one current interval of each bed.
CREATE INDEX "bed_status_history_current_idx" ON "bed_status_history" ("bed_id")
  WHERE "end_at" IS NULL;
