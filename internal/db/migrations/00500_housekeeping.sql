-- Housekeeping (客房部/管家部): the rooms of a hotel site by floor and type,
-- room state as independent dimensions, every change an event carrying the
-- state after it (so the board can be shown for any past instant), the
-- day's work and its assignment, inspections, the DND call and check tasks
-- and the maintenance handed to the process engine.

-- Per-site settings; a site without a row uses the defaults below.
CREATE TABLE hk_settings (
    site_id             BIGINT PRIMARY KEY REFERENCES org_nodes(id),
    inspection_required BOOLEAN NOT NULL DEFAULT TRUE,  -- ready to sell needs "inspected", or only "clean"
    dnd_call_times      TEXT NOT NULL DEFAULT '12:00,14:00',
    roll_time           TEXT NOT NULL DEFAULT '03:00',  -- the nightly roll, site local time
    rooms_min           INTEGER NOT NULL DEFAULT 12,    -- a day shift's rooms per attendant
    rooms_max           INTEGER NOT NULL DEFAULT 16,
    lost_found_days     INTEGER NOT NULL DEFAULT 90,    -- unclaimed items may be disposed of after
    last_roll_on        TEXT NOT NULL DEFAULT '',       -- YYYY-MM-DD (site local) of the last nightly roll
    updated_at          BIGINT NOT NULL
);

CREATE TABLE hk_room_types (
    id               {{ID}},
    site_id          BIGINT NOT NULL REFERENCES org_nodes(id),
    code             TEXT NOT NULL,
    name             TEXT NOT NULL,
    bed_style        TEXT NOT NULL DEFAULT 'western', -- western, chinese: where the attendant stands to make the bed
    -- Credits in tenths (10 = one room) and expected minutes per clean type.
    credits_checkout INTEGER NOT NULL DEFAULT 10,
    credits_stayover INTEGER NOT NULL DEFAULT 5,
    credits_turndown INTEGER NOT NULL DEFAULT 2,
    credits_deep     INTEGER NOT NULL DEFAULT 20,
    minutes_checkout INTEGER NOT NULL DEFAULT 30,
    minutes_stayover INTEGER NOT NULL DEFAULT 15,
    minutes_turndown INTEGER NOT NULL DEFAULT 5,
    minutes_deep     INTEGER NOT NULL DEFAULT 60,
    checklist        TEXT NOT NULL DEFAULT '',       -- JSON list of steps; '' = the standard steps
    inspection       TEXT NOT NULL DEFAULT '',       -- JSON list of inspection points; '' = the standard ones
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX hk_room_types_code ON hk_room_types(site_id, code);

CREATE TABLE hk_rooms (
    id           {{ID}},
    site_id      BIGINT NOT NULL REFERENCES org_nodes(id),
    floor_id     BIGINT REFERENCES org_nodes(id),   -- the floor (area) node
    node_path    TEXT NOT NULL,                     -- path of the floor, or of the site
    floor        INTEGER NOT NULL,
    number       TEXT NOT NULL,
    type_id      BIGINT NOT NULL REFERENCES hk_room_types(id),
    -- The state: one column per dimension (see housekeeping/state.go).
    cleaning     TEXT NOT NULL DEFAULT 'dirty',     -- dirty, cleaning, clean, inspected, pickup
    occupancy    TEXT NOT NULL DEFAULT 'vacant',    -- vacant, occupied (the front office)
    hk_occupancy TEXT NOT NULL DEFAULT 'unknown',   -- unknown, vacant, occupied (what housekeeping found)
    block        TEXT NOT NULL DEFAULT 'none',      -- none, ooo, oos
    block_reason TEXT NOT NULL DEFAULT '',
    block_from   TEXT NOT NULL DEFAULT '',          -- YYYY-MM-DD
    block_until  TEXT NOT NULL DEFAULT '',
    block_return TEXT NOT NULL DEFAULT '',          -- the cleaning status the room returns to
    flags        TEXT NOT NULL DEFAULT '',          -- sorted, comma-separated service flags
    dnd_since    BIGINT,
    service_at   BIGINT,                            -- a guest asked for service at this time
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX hk_rooms_number ON hk_rooms(site_id, number);
CREATE INDEX hk_rooms_site_floor ON hk_rooms(site_id, floor, number);
CREATE INDEX hk_rooms_path ON hk_rooms(node_path);
--postgres: CREATE INDEX hk_rooms_path_prefix ON hk_rooms(node_path text_pattern_ops);

-- Every change of a room: who, when, which dimension from what to what,
-- and the whole state after it. The newest event of a room at or before an
-- instant is the room as it was then. Per room, "at" never goes backwards.
CREATE TABLE hk_room_events (
    id           {{ID}},
    room_id      BIGINT NOT NULL REFERENCES hk_rooms(id),
    site_id      BIGINT NOT NULL REFERENCES org_nodes(id),
    at           BIGINT NOT NULL,
    actor_id     BIGINT REFERENCES staff(id),
    actor_name   TEXT NOT NULL DEFAULT '',
    kind         TEXT NOT NULL,                     -- status, created, front_office, roll, clean_started, inspected, dnd_task, damage, ...
    dimension    TEXT NOT NULL DEFAULT '',
    from_value   TEXT NOT NULL DEFAULT '',
    to_value     TEXT NOT NULL DEFAULT '',
    note         TEXT NOT NULL DEFAULT '',
    ref_id       BIGINT,                            -- the work item, task, inspection, … it belongs to
    cleaning     TEXT NOT NULL,
    occupancy    TEXT NOT NULL,
    hk_occupancy TEXT NOT NULL,
    block        TEXT NOT NULL,
    block_reason TEXT NOT NULL DEFAULT '',
    flags        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX hk_room_events_room ON hk_room_events(room_id, at, id);
CREATE INDEX hk_room_events_site ON hk_room_events(site_id, at);

-- Who works which shift on a day (day 07:00–15:30 attendants and their
-- supervisor; the clerk's early, middle and night shifts).
CREATE TABLE hk_roster (
    id         {{ID}},
    site_id    BIGINT NOT NULL REFERENCES org_nodes(id),
    work_date  TEXT NOT NULL,
    shift      TEXT NOT NULL,                       -- day, early, middle, night
    staff_id   BIGINT NOT NULL REFERENCES staff(id),
    duty       TEXT NOT NULL,                       -- attendant, supervisor, clerk
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX hk_roster_unique ON hk_roster(site_id, work_date, shift, staff_id);

-- The day's work: one row per room and clean type, assigned to an
-- attendant in the order they will do it.
CREATE TABLE hk_work (
    id           {{ID}},
    site_id      BIGINT NOT NULL REFERENCES org_nodes(id),
    room_id      BIGINT NOT NULL REFERENCES hk_rooms(id),
    work_date    TEXT NOT NULL,
    clean_type   TEXT NOT NULL,                     -- checkout, stayover, turndown, deep
    credits      INTEGER NOT NULL,                  -- tenths
    minutes      INTEGER NOT NULL,                  -- expected
    attendant_id BIGINT REFERENCES staff(id),
    seq          INTEGER NOT NULL DEFAULT 0,
    state        TEXT NOT NULL DEFAULT 'open',      -- open, started, done, skipped
    skip_reason  TEXT NOT NULL DEFAULT '',
    steps        TEXT NOT NULL DEFAULT '',          -- JSON list of the checklist steps ticked
    started_at   BIGINT,
    finished_at  BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX hk_work_unique ON hk_work(work_date, room_id, clean_type);
CREATE INDEX hk_work_day ON hk_work(site_id, work_date, attendant_id, seq);
CREATE INDEX hk_work_attendant ON hk_work(attendant_id, work_date);

CREATE TABLE hk_inspections (
    id           {{ID}},
    site_id      BIGINT NOT NULL REFERENCES org_nodes(id),
    room_id      BIGINT NOT NULL REFERENCES hk_rooms(id),
    work_id      BIGINT REFERENCES hk_work(id),
    attendant_id BIGINT REFERENCES staff(id),
    inspector_id BIGINT REFERENCES staff(id),
    at           BIGINT NOT NULL,
    passed       BOOLEAN NOT NULL,
    score        INTEGER NOT NULL,                  -- 0–100
    failed_items TEXT NOT NULL DEFAULT '',          -- JSON list of inspection points not met
    reasons      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX hk_inspections_site ON hk_inspections(site_id, at);
CREATE INDEX hk_inspections_room ON hk_inspections(room_id, at);

-- DND calls for the clerk, in-person checks for the duty manager and
-- security, welfare checks.
CREATE TABLE hk_tasks (
    id         {{ID}},
    site_id    BIGINT NOT NULL REFERENCES org_nodes(id),
    room_id    BIGINT NOT NULL REFERENCES hk_rooms(id),
    kind       TEXT NOT NULL,                       -- dnd_call, dnd_check, welfare_check
    slot       TEXT NOT NULL DEFAULT '',            -- the call time, "12:00"
    due_at     BIGINT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'open',        -- open, done, cancelled
    outcome    TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    service_at BIGINT,
    created_at BIGINT NOT NULL,
    closed_at  BIGINT,
    closed_by  BIGINT REFERENCES staff(id)
);
CREATE INDEX hk_tasks_open ON hk_tasks(site_id, state, due_at);
CREATE INDEX hk_tasks_room ON hk_tasks(room_id, id);
CREATE INDEX hk_tasks_closed ON hk_tasks(site_id, closed_at);

-- Damage reported from a room, handed to the process engine.
CREATE TABLE hk_maintenance (
    id          {{ID}},
    site_id     BIGINT NOT NULL REFERENCES org_nodes(id),
    room_id     BIGINT NOT NULL REFERENCES hk_rooms(id),
    description TEXT NOT NULL,
    set_ooo     BOOLEAN NOT NULL DEFAULT FALSE,
    instance_id BIGINT,                             -- flow_instances.id
    state       TEXT NOT NULL DEFAULT 'open',       -- open, done
    reported_by BIGINT REFERENCES staff(id),
    reported_at BIGINT NOT NULL,
    done_at     BIGINT,
    done_note   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX hk_maintenance_room ON hk_maintenance(room_id, id);
CREATE INDEX hk_maintenance_open ON hk_maintenance(site_id, state);
