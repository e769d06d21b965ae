-- End-to-end encryption's key directory: each user's account key and signed
-- device list, each device's signed one-time and fallback pre-keys, and the
-- open links for new devices. The server verifies signatures but holds no
-- private key. `listed` marks the devices on the user's signed list: only
-- they receive messages (devices of users without a list are all listed).
ALTER TABLE users ADD COLUMN account_key BYTEA;
ALTER TABLE devices ADD COLUMN listed BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE device_lists (
    user_id   BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    version   BIGINT NOT NULL,
    body      BYTEA  NOT NULL,
    signature BYTEA  NOT NULL
);

CREATE TABLE one_time_keys (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id BIGINT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    key       BYTEA  NOT NULL,
    signature BYTEA  NOT NULL,
    UNIQUE (device_id, key)
);

CREATE TABLE fallback_keys (
    device_id BIGINT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    key       BYTEA  NOT NULL,
    signature BYTEA  NOT NULL
);

CREATE TABLE links (
    link_id    BYTEA  PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX links_by_user ON links (user_id);
