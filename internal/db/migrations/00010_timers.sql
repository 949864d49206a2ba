-- Durable timers: every deadline in the product (process timers, SLA warnings
-- and breaches, reminders) is a row here. An in-process scheduler fires the
-- near ones on time; a River job per timer is the backstop. The state change
-- pending → fired commits with the timer's effects, so a timer fires once.
CREATE TABLE timers (
    id          {{ID}},
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',
    due_at      BIGINT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending',  -- pending, fired, cancelled
    payload     TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    fired_at    BIGINT
);
CREATE INDEX timers_pending_due ON timers(due_at) WHERE state = 'pending';
CREATE INDEX timers_pending_subject ON timers(kind, subject) WHERE state = 'pending';
