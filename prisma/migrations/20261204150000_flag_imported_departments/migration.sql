-- The FHIR import made a department of every Location it read (Synthea's clinics, hospitals
-- and patients' homes) without flagging it for review, so on an installation that imported
-- them they look configured and sort ahead of the hospital's wards. Only the FHIR import links
-- a department to an organization, and a department the hospital configured (seed, locations
-- CSV) always has rooms: an unflagged department linked to an organization and holding no room
-- is one of those. Flag it, as the import now does; nothing else changes (codes stay).
UPDATE department d
   SET needs_review = true
 WHERE NOT d.needs_review
   AND d.organization_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM room r WHERE r.department_id = d.id);
