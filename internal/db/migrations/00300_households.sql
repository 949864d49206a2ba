-- Households: units under the site → building tree, the households living
-- in them, their people, the butler who owns each household, care tasks,
-- key custody, consents and the log of every unmasked personal value.
--
-- Personal data at rest: phones, ID numbers and birthdays are sealed with
-- AES-256-GCM by package pii (columns *_enc); the few searches on them use
-- keyed blind indexes (*_idx), never the clear value. Names stay clear so
-- people can be found and greeted; erasure blanks them.
--
-- Text columns searched by prefix use the C collation on PostgreSQL so a
-- range "prefix ≤ x < prefix‖U+10FFFF" walks the index in byte order, as
-- SQLite's default BINARY collation does.

CREATE TABLE units (
    id          {{ID}},
    site_id     BIGINT NOT NULL REFERENCES org_nodes(id),
    building_id BIGINT REFERENCES org_nodes(id),  -- the building (area) node
    node_path   TEXT NOT NULL,                    -- path of the building, or of the site
    building    TEXT NOT NULL DEFAULT '',         -- building code, "3"
    floor       INTEGER NOT NULL DEFAULT 0,
--sqlite:    number      TEXT NOT NULL,          -- "3-1502": building-floor-unit
--postgres:  number      TEXT COLLATE "C" NOT NULL,
    area_m2     DOUBLE PRECISION,
    layout      TEXT NOT NULL DEFAULT '',         -- "3室2厅"
    state       TEXT NOT NULL DEFAULT 'delivered',-- unsold, delivered, decorating, occupied, vacant, rented
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX units_site_number ON units(site_id, number);
CREATE INDEX units_number ON units(number);
CREATE INDEX units_path ON units(node_path, number);
--postgres: CREATE INDEX units_path_prefix ON units(node_path text_pattern_ops);

CREATE TABLE households (
    id              {{ID}},
    unit_id         BIGINT NOT NULL REFERENCES units(id),
    site_id         BIGINT NOT NULL REFERENCES org_nodes(id),
    node_path       TEXT NOT NULL,
    butler_id       BIGINT REFERENCES staff(id),
    status          TEXT NOT NULL DEFAULT 'current', -- current, former
    residency       TEXT NOT NULL DEFAULT 'living',  -- living, absent (the owner does not live in the unit)
    moved_in_on     TEXT NOT NULL DEFAULT '',         -- YYYY-MM-DD
    moved_out_on    TEXT NOT NULL DEFAULT '',
    notes           TEXT NOT NULL DEFAULT '',
    elderly_alone   BOOLEAN NOT NULL DEFAULT FALSE,   -- somebody in it: kept from the people's flags
    has_child       BOOLEAN NOT NULL DEFAULT FALSE,
    needs_assistance BOOLEAN NOT NULL DEFAULT FALSE,
    last_contact_at BIGINT,
    last_visit_at   BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX households_unit_current ON households(unit_id) WHERE status = 'current';
CREATE INDEX households_butler ON households(butler_id, status);
CREATE INDEX households_path ON households(node_path, id);
--postgres: CREATE INDEX households_path_prefix ON households(node_path text_pattern_ops);
CREATE INDEX households_site ON households(site_id, status);

CREATE TABLE household_people (
    id              {{ID}},
    uid             TEXT NOT NULL,                    -- random public reference
    household_id    BIGINT NOT NULL REFERENCES households(id),
    node_path       TEXT NOT NULL,
    role            TEXT NOT NULL,                    -- owner, co_resident, tenant, family
    relation        TEXT NOT NULL DEFAULT '',         -- to the owner: 配偶, 儿子…
    name            TEXT NOT NULL,
    gender          TEXT NOT NULL DEFAULT '',         -- '', m, f
    id_type         TEXT NOT NULL DEFAULT '',         -- resident, passport, other
    id_number_enc   TEXT NOT NULL DEFAULT '',
    id_number_idx   TEXT NOT NULL DEFAULT '',
    birthday_enc    TEXT NOT NULL DEFAULT '',
    birthday_md_idx TEXT NOT NULL DEFAULT '',         -- blind index of "MM-DD", for greetings
    notes           TEXT NOT NULL DEFAULT '',         -- preferences and habits
    elderly_alone   BOOLEAN NOT NULL DEFAULT FALSE,
    child_under_14  BOOLEAN NOT NULL DEFAULT FALSE,
    needs_assistance BOOLEAN NOT NULL DEFAULT FALSE,
    status          TEXT NOT NULL DEFAULT 'active',   -- active, moved_out, erased
    erased_at       BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX household_people_uid ON household_people(uid);
CREATE INDEX household_people_household ON household_people(household_id, id);
CREATE INDEX household_people_birthday ON household_people(birthday_md_idx) WHERE birthday_md_idx <> '';
CREATE INDEX household_people_id_number ON household_people(id_number_idx) WHERE id_number_idx <> '';

CREATE TABLE person_phones (
    id          {{ID}},
    person_id   BIGINT NOT NULL REFERENCES household_people(id) ON DELETE CASCADE,
    label       TEXT NOT NULL DEFAULT 'mobile',       -- mobile, home, work, other
    phone_enc   TEXT NOT NULL,
    phone_idx   TEXT NOT NULL,                        -- blind index of the digits
    sort        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX person_phones_person ON person_phones(person_id, sort);
CREATE INDEX person_phones_idx ON person_phones(phone_idx);

CREATE TABLE person_vehicles (
    id          {{ID}},
    person_id   BIGINT NOT NULL REFERENCES household_people(id) ON DELETE CASCADE,
    plate       TEXT NOT NULL,
    model       TEXT NOT NULL DEFAULT '',
    parking     TEXT NOT NULL DEFAULT ''              -- parking space
);
CREATE INDEX person_vehicles_person ON person_vehicles(person_id);

CREATE TABLE person_pets (
    id          {{ID}},
    person_id   BIGINT NOT NULL REFERENCES household_people(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL DEFAULT 'dog',          -- dog, cat, other
    name        TEXT NOT NULL DEFAULT '',
    notes       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX person_pets_person ON person_pets(person_id);

-- Consents: what a person (or a child's guardian) agreed to, on which text,
-- through which channel. Kept after erasure as proof; they hold no
-- personal data themselves.
CREATE TABLE person_consents (
    id                  {{ID}},
    person_id           BIGINT NOT NULL REFERENCES household_people(id),
    purpose             TEXT NOT NULL,                -- id_number, birthday, minor, care
    text_version        TEXT NOT NULL,
    channel             TEXT NOT NULL,                -- paper, app, phone, in_person
    given_by            TEXT NOT NULL DEFAULT 'self', -- self, guardian
    guardian_person_id  BIGINT REFERENCES household_people(id),
    guardian_relation   TEXT NOT NULL DEFAULT '',
    given_at            BIGINT NOT NULL,
    withdrawn_at        BIGINT,
    recorded_by         BIGINT,
    created_at          BIGINT NOT NULL
);
CREATE INDEX person_consents_person ON person_consents(person_id, purpose);

-- One-box search: tokens point at households (and the person who matched).
-- Kinds, as the token's prefix: n: name, g: given name, i: pinyin initials,
-- u: unit number, r: unit's floor-and-door part, t: phone's last four
-- digits (blind index), p: whole phone (blind index).
CREATE TABLE household_search (
--sqlite:    token        TEXT NOT NULL,
--postgres:  token        TEXT COLLATE "C" NOT NULL,
    household_id BIGINT NOT NULL REFERENCES households(id),
    person_id    BIGINT REFERENCES household_people(id) ON DELETE CASCADE
);
CREATE INDEX household_search_token ON household_search(token, household_id);
CREATE INDEX household_search_household ON household_search(household_id);
CREATE INDEX household_search_person ON household_search(person_id);

-- Ownership: every household has one butler; this is the history of who.
CREATE TABLE household_butlers (
    id            {{ID}},
    household_id  BIGINT NOT NULL REFERENCES households(id),
    butler_id     BIGINT NOT NULL REFERENCES staff(id),
    from_at       BIGINT NOT NULL,
    to_at         BIGINT,
    handover_id   BIGINT,
    reason        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX household_butlers_household ON household_butlers(household_id, from_at);
CREATE INDEX household_butlers_open ON household_butlers(butler_id) WHERE to_at IS NULL;

CREATE TABLE butler_handovers (
    id              {{ID}},
    from_butler_id  BIGINT NOT NULL REFERENCES staff(id),
    to_butler_id    BIGINT NOT NULL REFERENCES staff(id),
    node_path       TEXT NOT NULL DEFAULT '',
    households      INTEGER NOT NULL,
    tasks_moved     INTEGER NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    created_by      BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX butler_handovers_at ON butler_handovers(created_at);

-- Life events (wedding, birth, moving in or out, renovation, a long trip, a
-- return home) and the care tasks they bring.
CREATE TABLE household_events (
    id            {{ID}},
    household_id  BIGINT NOT NULL REFERENCES households(id),
    kind          TEXT NOT NULL,
    starts_on     TEXT NOT NULL,                      -- YYYY-MM-DD, local to the site
    ends_on       TEXT NOT NULL DEFAULT '',
    at            BIGINT,                             -- an instant (the arrival of a return home)
    notes         TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL DEFAULT 'planned',    -- planned, cancelled
    created_by    BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX household_events_household ON household_events(household_id, starts_on);

-- Care tasks: birthday and holiday greetings, visits to elderly people
-- living alone, greetings to absent owners, the tasks of life events and
-- of a return home. The butler's inbox reads them (DueCareTasks).
CREATE TABLE care_tasks (
    id            {{ID}},
    household_id  BIGINT NOT NULL REFERENCES households(id),
    person_id     BIGINT REFERENCES household_people(id),
    event_id      BIGINT REFERENCES household_events(id),
    butler_id     BIGINT REFERENCES staff(id),
    node_path     TEXT NOT NULL,
    kind          TEXT NOT NULL,                      -- birthday, holiday, elderly_visit, absent_greeting, event
    subject       TEXT NOT NULL DEFAULT '',           -- holiday name or event step; never personal data
    dedupe_key    TEXT,                               -- makes the daily job idempotent
    show_from     BIGINT NOT NULL,
    due_at        BIGINT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'open',       -- open, done, cancelled
    done_at       BIGINT,
    done_by       BIGINT,
    outcome       TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX care_tasks_dedupe ON care_tasks(dedupe_key);
CREATE INDEX care_tasks_butler ON care_tasks(butler_id, status, due_at);
CREATE INDEX care_tasks_household ON care_tasks(household_id, status, kind);
CREATE INDEX care_tasks_event ON care_tasks(event_id);

-- Contacts with a household: visits, calls, messages; a done care task
-- leaves one.
CREATE TABLE care_contacts (
    id            {{ID}},
    household_id  BIGINT NOT NULL REFERENCES households(id),
    person_id     BIGINT REFERENCES household_people(id),
    task_id       BIGINT REFERENCES care_tasks(id),
    staff_id      BIGINT REFERENCES staff(id),
    channel       TEXT NOT NULL,                      -- visit, phone, wechat, sms, other
    kind          TEXT NOT NULL DEFAULT 'contact',
    note          TEXT NOT NULL DEFAULT '',
    at            BIGINT NOT NULL
);
CREATE INDEX care_contacts_household ON care_contacts(household_id, at);
CREATE INDEX care_contacts_staff ON care_contacts(staff_id, at);

-- Key custody (钥匙托管).
CREATE TABLE household_keys (
    id                      {{ID}},
    household_id            BIGINT NOT NULL REFERENCES households(id),
    node_path               TEXT NOT NULL,
    label                   TEXT NOT NULL,            -- "入户门钥匙 2 把"
    purposes                TEXT NOT NULL,            -- space-separated: airing cleaning checks other
    storage                 TEXT NOT NULL DEFAULT '', -- key cabinet slot
    received_at             BIGINT NOT NULL,
    received_by             BIGINT REFERENCES staff(id),
    received_from_person_id BIGINT REFERENCES household_people(id),
    notes                   TEXT NOT NULL DEFAULT '',
    status                  TEXT NOT NULL DEFAULT 'held', -- held, returned
    returned_at             BIGINT,
    returned_by             BIGINT REFERENCES staff(id),
    returned_to_person_id   BIGINT REFERENCES household_people(id),
    return_note             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX household_keys_household ON household_keys(household_id, status);

CREATE TABLE household_key_uses (
    id              {{ID}},
    key_id          BIGINT NOT NULL REFERENCES household_keys(id),
    staff_id        BIGINT REFERENCES staff(id),
    taken_at        BIGINT NOT NULL,
    back_at         BIGINT,
    accompanied_by  TEXT NOT NULL DEFAULT '',
    purpose         TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',          -- what was done
    created_at      BIGINT NOT NULL
);
CREATE INDEX household_key_uses_key ON household_key_uses(key_id, taken_at);

-- Every clear personal value shown or exported: who, whose, which field,
-- why, when. The value itself is never logged.
CREATE TABLE pii_access_log (
    id            {{ID}},
    at            BIGINT NOT NULL,
    staff_id      BIGINT,
    staff_name    TEXT NOT NULL DEFAULT '',
    ip            TEXT NOT NULL DEFAULT '',
    person_id     BIGINT,
    household_id  BIGINT,
    node_path     TEXT NOT NULL DEFAULT '',
    field         TEXT NOT NULL,                       -- phone, id_number, birthday, export, bulk_export
    reason        TEXT NOT NULL
);
CREATE INDEX pii_access_log_at ON pii_access_log(at, id);
CREATE INDEX pii_access_log_person ON pii_access_log(person_id, at);
CREATE INDEX pii_access_log_staff ON pii_access_log(staff_id, at);
