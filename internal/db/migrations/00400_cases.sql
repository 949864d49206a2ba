-- The service desk: cases (报事报修, 投诉, 咨询, 建议, 表扬) with their
-- categories, numbers, files, return visits and the outbox of notifications
-- they cause. A case runs a process instance; its timeline merges the case's
-- own events, the instance's history and its SLA events.

CREATE TABLE case_categories (
    id            {{ID}},
    site_id       BIGINT NOT NULL REFERENCES org_nodes(id),
    parent_id     BIGINT REFERENCES case_categories(id),
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    department_kind TEXT NOT NULL DEFAULT '',   -- engineering, security, cleaning, landscaping, …
    needs_signature BOOLEAN NOT NULL DEFAULT FALSE,
    sort          INTEGER NOT NULL DEFAULT 0,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX case_categories_code ON case_categories(site_id, code);

CREATE TABLE case_numbers (
    site_id  BIGINT NOT NULL,
    prefix   TEXT NOT NULL,
    day      TEXT NOT NULL,
    last     INTEGER NOT NULL,
    PRIMARY KEY (site_id, prefix, day)
);

CREATE TABLE cases (
    id              {{ID}},
    number          TEXT NOT NULL,
    type            TEXT NOT NULL,        -- repair, complaint, inquiry, suggestion, praise
    category_id     BIGINT REFERENCES case_categories(id),
    site_id         BIGINT NOT NULL REFERENCES org_nodes(id),
    node_path       TEXT NOT NULL,
    unit_id         BIGINT,
    household_id    BIGINT,
    butler_id       BIGINT REFERENCES staff(id),
    area            TEXT NOT NULL DEFAULT 'home',  -- home (in-home) or public
    priority        TEXT NOT NULL DEFAULT 'normal',
    source          TEXT NOT NULL DEFAULT 'phone',  -- phone, portal, api, patrol, visit
    description     TEXT NOT NULL,
    contact_name    TEXT NOT NULL DEFAULT '',
    contact_phone_enc TEXT NOT NULL DEFAULT '',
    preferred_time  TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,   -- new, acknowledged, dispatched, accepted, on_site, completed, closed
    paused          BOOLEAN NOT NULL DEFAULT FALSE,
    pause_reason    TEXT NOT NULL DEFAULT '',
    assignee_id     BIGINT REFERENCES staff(id),
    department_id   BIGINT REFERENCES departments(id),
    instance_id     BIGINT,
    reopened        INTEGER NOT NULL DEFAULT 0,
    materials       TEXT NOT NULL DEFAULT '',
    labour_minutes  INTEGER NOT NULL DEFAULT 0,
    satisfaction    INTEGER,
    created_by      BIGINT,
    portal_person_uid TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    acknowledged_at BIGINT,
    dispatched_at   BIGINT,
    accepted_at     BIGINT,
    arrived_at      BIGINT,
    completed_at    BIGINT,
    closed_at       BIGINT,
    due_at          BIGINT,              -- the nearest open SLA deadline, for the inbox
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX cases_number ON cases(site_id, number);
CREATE INDEX cases_number_lookup ON cases(number);
CREATE INDEX cases_butler_open ON cases(butler_id, state, due_at) WHERE state <> 'closed';
CREATE INDEX cases_assignee_open ON cases(assignee_id, state) WHERE state <> 'closed';
CREATE INDEX cases_household ON cases(household_id, created_at);
CREATE INDEX cases_unit_open ON cases(unit_id, category_id) WHERE state <> 'closed';
CREATE INDEX cases_path_created ON cases(node_path, created_at);
CREATE INDEX cases_state_created ON cases(state, created_at);
CREATE INDEX cases_due_open ON cases(due_at) WHERE state <> 'closed';

CREATE TABLE case_events (
    id          {{ID}},
    case_id     BIGINT NOT NULL REFERENCES cases(id),
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    actor_id    BIGINT,
    actor_name  TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX case_events_case ON case_events(case_id, id);

CREATE TABLE case_files (
    id           {{ID}},
    case_id      BIGINT NOT NULL REFERENCES cases(id),
    kind         TEXT NOT NULL DEFAULT 'photo',   -- photo, completion, signature, document
    blob_key     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    created_by   BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX case_files_case ON case_files(case_id, id);

CREATE TABLE case_visits (
    id          {{ID}},
    case_id     BIGINT NOT NULL REFERENCES cases(id),
    method      TEXT NOT NULL,      -- phone, visit, portal
    speed       INTEGER NOT NULL,
    quality     INTEGER NOT NULL,
    attitude    INTEGER NOT NULL,
    comment     TEXT NOT NULL DEFAULT '',
    happy       BOOLEAN NOT NULL,
    visited_by  BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX case_visits_case ON case_visits(case_id, id);
