-- SLA engine: policies with per-priority targets and an escalation ladder,
-- one clock cycle per subject and metric (a reopened subject gets a new
-- cycle; old ones stay as history), the events the timeline reads, the
-- notification outbox, and the progress of deadline recomputations.

CREATE TABLE sla_policies (
    id          {{ID}},
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    case_type   TEXT NOT NULL DEFAULT '',          -- '' matches any
    category    TEXT NOT NULL DEFAULT '',          -- '' matches any
    node_id     BIGINT REFERENCES org_nodes(id),   -- applies to this subtree; NULL everywhere
    node_path   TEXT NOT NULL DEFAULT '',
    calendar    TEXT NOT NULL DEFAULT '',          -- calendar key; '' the site's calendar
    ladder      TEXT NOT NULL DEFAULT '[]',        -- JSON escalation steps
    builtin     BOOLEAN NOT NULL DEFAULT FALSE,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX sla_policies_key ON sla_policies(key);
CREATE INDEX sla_policies_case_type ON sla_policies(case_type, id);

CREATE TABLE sla_targets (
    id              {{ID}},
    policy_id       BIGINT NOT NULL REFERENCES sla_policies(id) ON DELETE CASCADE,
    metric          TEXT NOT NULL,                  -- first_response, next_update, resolution, follow_up, on_site, or a step name
    priority        TEXT NOT NULL DEFAULT '',       -- '' any priority
    grade           TEXT NOT NULL DEFAULT '',       -- '' any class (service grade, supply type)
    name            TEXT NOT NULL DEFAULT '',
    target_minutes  INTEGER NOT NULL,
    business        BOOLEAN NOT NULL DEFAULT TRUE,  -- working minutes on the calendar, else elapsed minutes
    warn_pct        INTEGER NOT NULL DEFAULT 80,    -- 0: no warning
    start_event     TEXT NOT NULL DEFAULT '',
    stop_event      TEXT NOT NULL DEFAULT '',
    pause_states    TEXT NOT NULL DEFAULT '',       -- comma-separated
    sort            INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX sla_targets_key ON sla_targets(policy_id, metric, priority, grade);

CREATE TABLE sla_cycles (
    id                  {{ID}},
    subject             TEXT NOT NULL,              -- e.g. case:123
    metric              TEXT NOT NULL,
    seq                 INTEGER NOT NULL,           -- 1, then 2 after a reopen, ...
    policy_id           BIGINT NOT NULL REFERENCES sla_policies(id),
    target_id           BIGINT REFERENCES sla_targets(id) ON DELETE SET NULL,
    priority            TEXT NOT NULL DEFAULT '',
    grade               TEXT NOT NULL DEFAULT '',
    calendar            TEXT NOT NULL,
    business            BOOLEAN NOT NULL,
    target_minutes      INTEGER NOT NULL,
    warn_pct            INTEGER NOT NULL,
    pause_states        TEXT NOT NULL DEFAULT '',
    node_path           TEXT NOT NULL DEFAULT '',
    holder_id           BIGINT REFERENCES staff(id) ON DELETE SET NULL,
    state               TEXT NOT NULL,              -- running, paused, met, late, cancelled
    started_at          BIGINT NOT NULL,
    pauses              TEXT NOT NULL DEFAULT '',   -- JSON closed pauses [{"from":ms,"to":ms,"reason":""}]
    paused_at           BIGINT,
    pause_reason        TEXT NOT NULL DEFAULT '',
    warn_at             BIGINT,
    due_at              BIGINT,                     -- NULL while paused
    next_escalation_at  BIGINT,                     -- the next warning, breach or ladder step; NULL when none
    warned_at           BIGINT,
    breached_at         BIGINT,                     -- the deadline that was missed
    met_at              BIGINT,
    closed_at           BIGINT,
    steps_done          BIGINT NOT NULL DEFAULT 0,  -- bit i: ladder step i done
    rev                 BIGINT NOT NULL DEFAULT 1,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX sla_cycles_seq ON sla_cycles(subject, metric, seq);
CREATE UNIQUE INDEX sla_cycles_one_open ON sla_cycles(subject, metric) WHERE state IN ('running', 'paused');
CREATE INDEX sla_cycles_due ON sla_cycles(due_at, id) WHERE state = 'running';
CREATE INDEX sla_cycles_escalation ON sla_cycles(next_escalation_at) WHERE next_escalation_at IS NOT NULL;
CREATE INDEX sla_cycles_open_calendar ON sla_cycles(calendar, id) WHERE state IN ('running', 'paused');
CREATE INDEX sla_cycles_open_policy ON sla_cycles(policy_id, id) WHERE state IN ('running', 'paused');

CREATE TABLE sla_events (
    id              {{ID}},
    cycle_id        BIGINT NOT NULL REFERENCES sla_cycles(id),
    subject         TEXT NOT NULL,
    metric          TEXT NOT NULL,
    kind            TEXT NOT NULL,   -- started, paused, resumed, warning, breach, escalated, met, late, cancelled, reopened, assigned, recomputed
    step            INTEGER,         -- ladder step of an escalation
    at              BIGINT NOT NULL,
    detail          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sla_events_subject ON sla_events(subject, id);
CREATE INDEX sla_events_cycle ON sla_events(cycle_id, id);

-- Outbox of messages to staff; the service desk delivers them.
CREATE TABLE notifications (
    id              {{ID}},
    recipient_id    BIGINT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    subject         TEXT NOT NULL DEFAULT '',
    payload         TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    read_at         BIGINT
);
CREATE INDEX notifications_recipient ON notifications(recipient_id, id);
CREATE INDEX notifications_unread ON notifications(recipient_id, id) WHERE read_at IS NULL;

CREATE TABLE sla_recomputes (
    id          {{ID}},
    reason      TEXT NOT NULL,          -- calendar or policy
    calendar    TEXT NOT NULL DEFAULT '',
    policy_id   BIGINT,
    after_id    BIGINT NOT NULL DEFAULT 0,
    total       INTEGER NOT NULL DEFAULT 0,
    processed   INTEGER NOT NULL DEFAULT 0,
    changed     INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX sla_recomputes_open ON sla_recomputes(id) WHERE finished_at IS NULL;
