-- A timer whose handler failed waits until retry_at before the next try, on
-- every instance and across restarts. The timers table alone is the durable
-- store: every instance's scheduler reads pending rows that have come due,
-- including those that fell due while no instance ran.
ALTER TABLE timers ADD COLUMN retry_at BIGINT;
