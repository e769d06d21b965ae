-- Users, their devices (each with its own Ed25519 identity key), contact
-- lists, and the per-device queues of undelivered entries. Times are Unix
-- milliseconds.
CREATE TABLE users (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username   TEXT   NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE devices (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    public_key BYTEA  NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX devices_by_user ON devices (user_id);

-- owner_id lets contact_id see its presence and receive its typing indicators.
CREATE TABLE contacts (
    owner_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (owner_id, contact_id)
);

-- One row per entry (message or receipt) per recipient device, deleted when
-- that device acknowledges it or when it expires.
CREATE TABLE queue (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id     BIGINT   NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    entry_id      BYTEA    NOT NULL,
    kind          SMALLINT NOT NULL,
    sender_user   BIGINT   NOT NULL,
    sender_device BIGINT   NOT NULL,
    payload       BYTEA    NOT NULL,
    created_at    BIGINT   NOT NULL,
    expires_at    BIGINT   NOT NULL,
    UNIQUE (device_id, entry_id)
);
CREATE INDEX queue_by_device ON queue (device_id, seq);
CREATE INDEX queue_by_expiry ON queue (expires_at);

-- Messages already accepted, so that a retried send is not queued twice even
-- after its recipients acknowledged it.
CREATE TABLE accepted (
    sender_device BIGINT NOT NULL,
    message_id    BYTEA  NOT NULL,
    expires_at    BIGINT NOT NULL,
    PRIMARY KEY (sender_device, message_id)
);
CREATE INDEX accepted_by_expiry ON accepted (expires_at);
