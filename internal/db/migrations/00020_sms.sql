-- Text messages: written in the transaction of their cause, delivered by a
-- River job through the configured provider, kept for the admin page.
CREATE TABLE sms_messages (
    id          {{ID}},
    phone       TEXT NOT NULL,
    body        TEXT NOT NULL,
    purpose     TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT 'queued',  -- queued, sent, failed
    provider    TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    sent_at     BIGINT
);
CREATE INDEX sms_messages_created ON sms_messages(created_at, id);
CREATE INDEX sms_messages_phone ON sms_messages(phone, created_at);
