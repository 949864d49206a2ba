-- Damage found in a room opens a service-desk repair case when the desk
-- runs beside housekeeping; the case's completion returns the room.
ALTER TABLE hk_maintenance ADD COLUMN case_id BIGINT;
CREATE INDEX hk_maintenance_case ON hk_maintenance(case_id) WHERE case_id IS NOT NULL;
