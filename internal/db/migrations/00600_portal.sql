-- The self-service portal: residents and utility customers sign in with a
-- one-time code sent to their phone. Phones are kept only as blind indexes
-- (and sealed where a message must be sent); codes only as keyed hashes.

CREATE TABLE portal_sessions (
    id_hash      TEXT PRIMARY KEY,
    phone_idx    TEXT NOT NULL,
    phone_enc    TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    kiosk        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX portal_sessions_expires ON portal_sessions(expires_at);
CREATE INDEX portal_sessions_phone ON portal_sessions(phone_idx);

-- Wrong codes per phone; five lock the phone for 30 minutes.
CREATE TABLE portal_locks (
    phone_idx    TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT,
    updated_at   BIGINT NOT NULL
);

-- Utility customers: an account number bound to a phone.
CREATE TABLE portal_accounts (
    id          {{ID}},
    number      TEXT NOT NULL,
    site_id     BIGINT REFERENCES org_nodes(id),
    name        TEXT NOT NULL DEFAULT '',
    phone_enc   TEXT NOT NULL,
    phone_idx   TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX portal_accounts_number ON portal_accounts(number);
CREATE INDEX portal_accounts_phone ON portal_accounts(phone_idx);

-- A phone that belongs to no registered household member asks to be
-- verified as owner, co-resident or tenant of a unit; the unit's butler
-- decides. Until then nothing of the household is visible.
CREATE TABLE portal_verifications (
    id           {{ID}},
    phone_idx    TEXT NOT NULL,
    phone_enc    TEXT NOT NULL,
    unit_id      BIGINT NOT NULL,
    household_id BIGINT,
    node_path    TEXT NOT NULL,
    role         TEXT NOT NULL,          -- owner, co_resident, tenant
    name         TEXT NOT NULL,
    proof_key    TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL DEFAULT 'pending',   -- pending, approved, rejected
    decided_by   BIGINT,
    decided_at   BIGINT,
    reason       TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);
CREATE INDEX portal_verifications_phone ON portal_verifications(phone_idx, state);
CREATE INDEX portal_verifications_pending ON portal_verifications(node_path, created_at) WHERE state = 'pending';
