-- Users, their devices (each with its own Ed25519 identity key), contact
-- lists, and the per-device queues of undelivered entries. Times are Unix
-- milliseconds.
CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    username   TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE devices (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    public_key BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX devices_by_user ON devices (user_id);

-- owner_id lets contact_id see its presence and receive its typing indicators.
CREATE TABLE contacts (
    owner_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner_id, contact_id)
) STRICT, WITHOUT ROWID;

-- One row per entry (message or receipt) per recipient device, deleted when
-- that device acknowledges it or when it expires.
CREATE TABLE queue (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id     INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    entry_id      BLOB    NOT NULL,
    kind          INTEGER NOT NULL,
    sender_user   INTEGER NOT NULL,
    sender_device INTEGER NOT NULL,
    payload       BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    UNIQUE (device_id, entry_id)
) STRICT;
CREATE INDEX queue_by_device ON queue (device_id, seq);
CREATE INDEX queue_by_expiry ON queue (expires_at);

-- Messages already accepted, so that a retried send is not queued twice even
-- after its recipients acknowledged it.
CREATE TABLE accepted (
    sender_device INTEGER NOT NULL,
    message_id    BLOB    NOT NULL,
    expires_at    INTEGER NOT NULL,
    PRIMARY KEY (sender_device, message_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX accepted_by_expiry ON accepted (expires_at);
