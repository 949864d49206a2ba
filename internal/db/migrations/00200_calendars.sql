-- Business calendars as the product stores them: an editable copy of each
-- shipped calendar plus the ones admins create. spec is calendar.Spec as
-- JSON; version grows with every change so caches on every instance can
-- tell a stale compiled calendar from a fresh one.

CREATE TABLE calendars (
    id          {{ID}},
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    spec        TEXT NOT NULL,
    builtin     BOOLEAN NOT NULL DEFAULT FALSE, -- seeded from a shipped calendar
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX calendars_key ON calendars(key);
