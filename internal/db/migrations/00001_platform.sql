-- Platform: organisation tree, staff, roles and grants, sessions, API tokens,
-- the system log, announcements and one-time codes. Instants are BIGINT
-- milliseconds since the epoch, UTC.

CREATE TABLE org_nodes (
    id          {{ID}},
    parent_id   BIGINT REFERENCES org_nodes(id),
    kind        TEXT NOT NULL,            -- company, region, site, area
    site_kind   TEXT NOT NULL DEFAULT '', -- residential, commercial, hotel, utility, showflat (sites only)
    area_kind   TEXT NOT NULL DEFAULT '', -- building, floor, zone (areas only)
    name        TEXT NOT NULL,
    code        TEXT NOT NULL DEFAULT '',
    path        TEXT NOT NULL DEFAULT '', -- "/1/4/9/": ancestors and self, for subtree queries
    depth       INTEGER NOT NULL DEFAULT 0,
    sort        INTEGER NOT NULL DEFAULT 0,
    timezone    TEXT NOT NULL DEFAULT '',
    calendar    TEXT NOT NULL DEFAULT '',
    address     TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX org_nodes_parent ON org_nodes(parent_id, sort, id);
CREATE INDEX org_nodes_path ON org_nodes(path);
--postgres: CREATE INDEX org_nodes_path_prefix ON org_nodes(path text_pattern_ops);

CREATE TABLE departments (
    id          {{ID}},
    node_id     BIGINT NOT NULL REFERENCES org_nodes(id),
    kind        TEXT NOT NULL,   -- customer_service, engineering, security, cleaning, landscaping, housekeeping, front_office, custom
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX departments_node ON departments(node_id);

CREATE TABLE positions (
    id          {{ID}},
    node_id     BIGINT NOT NULL REFERENCES org_nodes(id),
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX positions_node ON positions(node_id);

CREATE TABLE staff (
    id              {{ID}},
    node_id         BIGINT NOT NULL REFERENCES org_nodes(id),
    node_path       TEXT NOT NULL,
    department_id   BIGINT REFERENCES departments(id),
    position_id     BIGINT REFERENCES positions(id),
    username        TEXT NOT NULL,
    name            TEXT NOT NULL,
    phone           TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'active', -- active, on_leave, left
    locale          TEXT NOT NULL DEFAULT '',
    password_hash   TEXT NOT NULL DEFAULT '',
    must_change_pw  BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    BIGINT,
    last_login_at   BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX staff_username ON staff(username);
CREATE INDEX staff_path ON staff(node_path, id);
--postgres: CREATE INDEX staff_path_prefix ON staff(node_path text_pattern_ops, id);
CREATE INDEX staff_department ON staff(department_id);

CREATE TABLE roles (
    id          {{ID}},
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    builtin     BOOLEAN NOT NULL DEFAULT FALSE,
    node_id     BIGINT REFERENCES org_nodes(id), -- the subtree that owns a custom role
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX roles_key ON roles(key);

CREATE TABLE role_permissions (
    role_id     BIGINT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    perm        TEXT NOT NULL,
    PRIMARY KEY (role_id, perm)
);

CREATE TABLE role_grants (
    id          {{ID}},
    staff_id    BIGINT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    role_id     BIGINT NOT NULL REFERENCES roles(id),
    node_id     BIGINT NOT NULL REFERENCES org_nodes(id),
    created_at  BIGINT NOT NULL,
    created_by  BIGINT
);
CREATE UNIQUE INDEX role_grants_unique ON role_grants(staff_id, role_id, node_id);
CREATE INDEX role_grants_role ON role_grants(role_id);
CREATE INDEX role_grants_node ON role_grants(node_id);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,  -- SHA-256 of the cookie value; the value itself is never stored
    staff_id     BIGINT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires_at);
CREATE INDEX sessions_staff ON sessions(staff_id);

CREATE TABLE api_tokens (
    id           {{ID}},
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    staff_id     BIGINT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    scopes       TEXT NOT NULL DEFAULT '',  -- space-separated permissions
    created_by   BIGINT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    last_used_at BIGINT
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens(token_hash);
CREATE INDEX api_tokens_staff ON api_tokens(staff_id);

CREATE TABLE audit_log (
    id          {{ID}},
    at          BIGINT NOT NULL,
    actor_id    BIGINT,
    actor_name  TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,          -- create, update, delete, login, ...
    entity      TEXT NOT NULL,          -- staff, role, org_node, ...
    entity_id   TEXT NOT NULL DEFAULT '',
    node_path   TEXT NOT NULL DEFAULT '',
    summary     TEXT NOT NULL DEFAULT '',
    before_json TEXT NOT NULL DEFAULT '',
    after_json  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit_log(at, id);
CREATE INDEX audit_entity ON audit_log(entity, entity_id, at);
CREATE INDEX audit_actor ON audit_log(actor_id, at);

CREATE TABLE announcements (
    id          {{ID}},
    node_id     BIGINT NOT NULL REFERENCES org_nodes(id),
    node_path   TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
    publish_at  BIGINT NOT NULL,
    expire_at   BIGINT,
    created_by  BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX announcements_publish ON announcements(publish_at, id);

CREATE TABLE otp_codes (
    id          {{ID}},
    purpose     TEXT NOT NULL,
    subject     TEXT NOT NULL,  -- e.g. the phone number
    code_hash   TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX otp_codes_subject ON otp_codes(purpose, subject, created_at);
CREATE INDEX otp_codes_expires ON otp_codes(expires_at);

CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
