-- Per-person notification preferences: text messages on or off and quiet
-- hours (local time, the site's zone) during which only urgent ones go out.
CREATE TABLE notify_prefs (
    staff_id    BIGINT PRIMARY KEY REFERENCES staff(id) ON DELETE CASCADE,
    sms         BOOLEAN NOT NULL DEFAULT TRUE,
    quiet_start TEXT NOT NULL DEFAULT '22:00',
    quiet_end   TEXT NOT NULL DEFAULT '07:00',
    updated_at  BIGINT NOT NULL
);
