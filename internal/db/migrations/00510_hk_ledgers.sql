-- Housekeeping ledgers (seed article 5, 管家部文员): minibar items, what
-- guests consumed and its replenishment; guest laundry; lost and found;
-- the department's keys and pagers issued per attendant and shift; items
-- lent to guests; the handover log with read acknowledgements; repeat-guest
-- notes; the clerk's shift checklists. Money in fen (1/100 yuan).

CREATE TABLE hk_minibar_items (
    id          {{ID}},
    site_id     BIGINT NOT NULL REFERENCES org_nodes(id),
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    price_fen   BIGINT NOT NULL,
    par         INTEGER NOT NULL DEFAULT 1,       -- how many a room holds
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX hk_minibar_items_code ON hk_minibar_items(site_id, code);

CREATE TABLE hk_minibar_postings (
    id             {{ID}},
    site_id        BIGINT NOT NULL REFERENCES org_nodes(id),
    room_id        BIGINT NOT NULL REFERENCES hk_rooms(id),
    item_id        BIGINT NOT NULL REFERENCES hk_minibar_items(id),
    qty            INTEGER NOT NULL,
    price_fen      BIGINT NOT NULL,                 -- the price when posted
    amount_fen     BIGINT NOT NULL,
    business_date  TEXT NOT NULL,                   -- YYYY-MM-DD, site local
    posted_at      BIGINT NOT NULL,
    posted_by      BIGINT REFERENCES staff(id),
    exported_at    BIGINT,                          -- sent to the guest folio
    replenished_at BIGINT,
    replenished_by BIGINT REFERENCES staff(id)
);
CREATE INDEX hk_minibar_postings_day ON hk_minibar_postings(site_id, business_date);
CREATE INDEX hk_minibar_postings_room ON hk_minibar_postings(room_id, posted_at);
CREATE INDEX hk_minibar_postings_open ON hk_minibar_postings(site_id, posted_at) WHERE replenished_at IS NULL;

CREATE TABLE hk_laundry (
    id          {{ID}},
    site_id     BIGINT NOT NULL REFERENCES org_nodes(id),
    room_id     BIGINT NOT NULL REFERENCES hk_rooms(id),
    bag_no      TEXT NOT NULL DEFAULT '',
    pieces      INTEGER NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    charge_fen  BIGINT NOT NULL DEFAULT 0,
    state       TEXT NOT NULL DEFAULT 'picked',     -- picked, returned
    picked_at   BIGINT NOT NULL,
    picked_by   BIGINT REFERENCES staff(id),
    returned_at BIGINT,
    returned_by BIGINT REFERENCES staff(id)
);
CREATE INDEX hk_laundry_state ON hk_laundry(site_id, state, picked_at);
CREATE INDEX hk_laundry_room ON hk_laundry(room_id, picked_at);

CREATE TABLE hk_lost_found (
    id          {{ID}},
    site_id     BIGINT NOT NULL REFERENCES org_nodes(id),
    room_id     BIGINT REFERENCES hk_rooms(id),
    place       TEXT NOT NULL,                      -- where it was found
    description TEXT NOT NULL,
    valuable    BOOLEAN NOT NULL DEFAULT FALSE,
    storage     TEXT NOT NULL DEFAULT '',           -- where it is kept
    finder_id   BIGINT REFERENCES staff(id),
    found_at    BIGINT NOT NULL,
    contacted_at BIGINT,                            -- the guest was told
    state       TEXT NOT NULL DEFAULT 'stored',     -- stored, claimed, disposed
    claimed_by  TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    closed_at   BIGINT,
    closed_by   BIGINT REFERENCES staff(id)
);
CREATE INDEX hk_lost_found_state ON hk_lost_found(site_id, state, found_at);

-- The department's keys (16 of them, seed article 5) and pagers.
CREATE TABLE hk_keys (
    id         {{ID}},
    site_id    BIGINT NOT NULL REFERENCES org_nodes(id),
    kind       TEXT NOT NULL,                       -- key, pager
    code       TEXT NOT NULL,
    label      TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX hk_keys_code ON hk_keys(site_id, kind, code);

CREATE TABLE hk_key_loans (
    id          {{ID}},
    site_id     BIGINT NOT NULL REFERENCES org_nodes(id),
    key_id      BIGINT NOT NULL REFERENCES hk_keys(id),
    staff_id    BIGINT NOT NULL REFERENCES staff(id),
    work_date   TEXT NOT NULL,
    shift       TEXT NOT NULL,                      -- day, middle, night
    issued_at   BIGINT NOT NULL,
    issued_by   BIGINT REFERENCES staff(id),
    returned_at BIGINT,
    returned_by BIGINT REFERENCES staff(id)
);
CREATE UNIQUE INDEX hk_key_loans_out ON hk_key_loans(key_id) WHERE returned_at IS NULL;
CREATE INDEX hk_key_loans_day ON hk_key_loans(site_id, work_date, shift);

CREATE TABLE hk_lent_items (
    id          {{ID}},
    site_id     BIGINT NOT NULL REFERENCES org_nodes(id),
    room_id     BIGINT NOT NULL REFERENCES hk_rooms(id),
    item        TEXT NOT NULL,
    qty         INTEGER NOT NULL DEFAULT 1,
    note        TEXT NOT NULL DEFAULT '',
    lent_at     BIGINT NOT NULL,
    lent_by     BIGINT REFERENCES staff(id),
    returned_at BIGINT,
    returned_by BIGINT REFERENCES staff(id)
);
CREATE INDEX hk_lent_items_open ON hk_lent_items(site_id, lent_at) WHERE returned_at IS NULL;
CREATE INDEX hk_lent_items_site ON hk_lent_items(site_id, lent_at);

CREATE TABLE hk_handover (
    id          {{ID}},
    site_id     BIGINT NOT NULL REFERENCES org_nodes(id),
    shift       TEXT NOT NULL,                      -- early, middle, night, day
    body        TEXT NOT NULL,
    written_by  BIGINT REFERENCES staff(id),
    written_at  BIGINT NOT NULL
);
CREATE INDEX hk_handover_site ON hk_handover(site_id, written_at);

CREATE TABLE hk_handover_reads (
    entry_id BIGINT NOT NULL REFERENCES hk_handover(id),
    staff_id BIGINT NOT NULL REFERENCES staff(id),
    read_at  BIGINT NOT NULL,
    PRIMARY KEY (entry_id, staff_id)
);

-- Repeat-guest notes (回头客资料): preferences by a guest reference the
-- front office uses (a member number, or a name as the guest gave it).
CREATE TABLE hk_guest_notes (
    id         {{ID}},
    site_id    BIGINT NOT NULL REFERENCES org_nodes(id),
--sqlite:    guest_ref  TEXT NOT NULL,
--postgres:  guest_ref  TEXT COLLATE "C" NOT NULL,
    note       TEXT NOT NULL,
    written_by BIGINT REFERENCES staff(id),
    written_at BIGINT NOT NULL
);
CREATE INDEX hk_guest_notes_ref ON hk_guest_notes(site_id, guest_ref);

-- The clerk's shift checklists, one row per item ticked.
CREATE TABLE hk_shift_checks (
    id        {{ID}},
    site_id   BIGINT NOT NULL REFERENCES org_nodes(id),
    work_date TEXT NOT NULL,
    shift     TEXT NOT NULL,                        -- early, middle, night
    item      TEXT NOT NULL,
    done_by   BIGINT REFERENCES staff(id),
    done_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX hk_shift_checks_unique ON hk_shift_checks(site_id, work_date, shift, item);
