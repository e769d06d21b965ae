-- End-to-end encryption's key directory: each user's account key and signed
-- device list, each device's signed one-time and fallback pre-keys, and the
-- open links for new devices. The server verifies signatures but holds no
-- private key. `listed` marks the devices on the user's signed list: only
-- they receive messages (devices of users without a list are all listed).
ALTER TABLE users ADD COLUMN account_key BLOB;
ALTER TABLE devices ADD COLUMN listed INTEGER NOT NULL DEFAULT 1;

CREATE TABLE device_lists (
    user_id   INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    version   INTEGER NOT NULL,
    body      BLOB    NOT NULL,
    signature BLOB    NOT NULL
) STRICT;

CREATE TABLE one_time_keys (
    id        INTEGER PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    key       BLOB    NOT NULL,
    signature BLOB    NOT NULL,
    UNIQUE (device_id, key)
) STRICT;

CREATE TABLE fallback_keys (
    device_id INTEGER PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    key       BLOB    NOT NULL,
    signature BLOB    NOT NULL
) STRICT;

CREATE TABLE links (
    link_id    BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX links_by_user ON links (user_id);
