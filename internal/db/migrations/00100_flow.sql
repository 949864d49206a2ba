-- The process engine: deployed definitions (immutable versions), running
-- instances (the machine state as JSON, locked per event), human tasks
-- with their candidates, message subscriptions and the history that is
-- every instance's timeline.

CREATE TABLE flow_definitions (
    id           {{ID}},
    key          TEXT NOT NULL,
    version      INTEGER NOT NULL,
    name         TEXT NOT NULL,
    format       TEXT NOT NULL,           -- bpmn or yaml
    source       TEXT NOT NULL,
    node_path    TEXT NOT NULL DEFAULT '', -- the subtree that owns it; '' everywhere
    deployed_by  BIGINT,
    deployed_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX flow_definitions_key_version ON flow_definitions(key, version);

CREATE TABLE flow_message_starts (
    definition_id BIGINT NOT NULL REFERENCES flow_definitions(id),
    message_name  TEXT NOT NULL,
    element_id    TEXT NOT NULL,
    PRIMARY KEY (message_name, definition_id, element_id)
);

CREATE TABLE flow_instances (
    id             {{ID}},
    definition_id  BIGINT NOT NULL REFERENCES flow_definitions(id),
    definition_key TEXT NOT NULL,
    business_key   TEXT NOT NULL DEFAULT '',
    site_id        BIGINT,
    node_path      TEXT NOT NULL DEFAULT '',
    customer_ref   TEXT NOT NULL DEFAULT '',
    state          TEXT NOT NULL,            -- active, completed, terminated, failed, cancelled
    reason         TEXT NOT NULL DEFAULT '',
    machine        TEXT NOT NULL,            -- machine.State as JSON
    calendar       TEXT NOT NULL DEFAULT '',
    started_by     BIGINT,
    started_at     BIGINT NOT NULL,
    ended_at       BIGINT,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX flow_instances_state ON flow_instances(state, started_at);
CREATE INDEX flow_instances_definition ON flow_instances(definition_id, state);
CREATE INDEX flow_instances_business_key ON flow_instances(business_key);
CREATE INDEX flow_instances_customer ON flow_instances(customer_ref);
CREATE INDEX flow_instances_path ON flow_instances(node_path, started_at);

CREATE TABLE flow_tasks (
    id              {{ID}},
    instance_id     BIGINT NOT NULL REFERENCES flow_instances(id),
    token_id        BIGINT NOT NULL,
    element_id      TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    definition_key  TEXT NOT NULL,
    business_key    TEXT NOT NULL DEFAULT '',
    node_path       TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT 'open',   -- open, completed, cancelled
    assignee_id     BIGINT,
    owner_id        BIGINT,                          -- who delegated it (delegation pending)
    candidate_groups TEXT NOT NULL DEFAULT '',
    candidate_users  TEXT NOT NULL DEFAULT '',
    due_at          BIGINT,
    follow_up_at    BIGINT,
    priority        INTEGER NOT NULL DEFAULT 50,
    form_key        TEXT NOT NULL DEFAULT '',
    mi_index        INTEGER NOT NULL DEFAULT -1,
    dispatched_by   BIGINT,
    dispatched_at   BIGINT,
    reminders       INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    claimed_at      BIGINT,
    completed_at    BIGINT,
    completed_by    BIGINT
);
CREATE UNIQUE INDEX flow_tasks_token ON flow_tasks(instance_id, token_id);
CREATE INDEX flow_tasks_mine ON flow_tasks(assignee_id, due_at, id) WHERE state = 'open';
CREATE INDEX flow_tasks_open_due ON flow_tasks(due_at, id) WHERE state = 'open';
CREATE INDEX flow_tasks_dispatcher ON flow_tasks(dispatched_by, dispatched_at);
CREATE INDEX flow_tasks_instance ON flow_tasks(instance_id, id);
CREATE INDEX flow_tasks_path ON flow_tasks(node_path, created_at) WHERE state = 'open';

-- Who may claim an open, unassigned task: one row per candidate (a role or
-- department group, or a staff member), removed when the task is claimed or
-- closed, so the claimable inbox reads only what can still be claimed.
CREATE TABLE flow_task_candidates (
    task_id    BIGINT NOT NULL REFERENCES flow_tasks(id),
    kind       TEXT NOT NULL,    -- group or user
    ref        TEXT NOT NULL,    -- role key, dept:<kind>, dept:<id>, or a staff id
    node_path  TEXT NOT NULL,
    due_at     BIGINT,
    PRIMARY KEY (kind, ref, task_id)
);
CREATE INDEX flow_task_candidates_task ON flow_task_candidates(task_id);

CREATE TABLE flow_subscriptions (
    instance_id     BIGINT NOT NULL REFERENCES flow_instances(id),
    sub_id          BIGINT NOT NULL,
    message_name    TEXT NOT NULL,
    correlation_key TEXT NOT NULL DEFAULT '',
    element_id      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (instance_id, sub_id)
);
CREATE INDEX flow_subscriptions_message ON flow_subscriptions(message_name, correlation_key);

CREATE TABLE flow_history (
    id           {{ID}},
    instance_id  BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    element_id   TEXT NOT NULL DEFAULT '',
    task_id      BIGINT,
    actor_id     BIGINT,
    actor_name   TEXT NOT NULL DEFAULT '',
    data         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX flow_history_instance ON flow_history(instance_id, id);

CREATE TABLE flow_task_comments (
    id          {{ID}},
    task_id     BIGINT NOT NULL REFERENCES flow_tasks(id),
    instance_id BIGINT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'comment',   -- comment, reply, reminder
    author_id   BIGINT,
    author_name TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX flow_task_comments_task ON flow_task_comments(task_id, id);
