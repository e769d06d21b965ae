-- Media objects (encrypted photos, voice notes and files) and their upload
-- slots: who stored how many bytes (the quota), the ciphertext's SHA-256
-- the upload must match, whether it was checked, and when the object is deleted. `secrets` holds the key that
-- signs the URLs of the embedded local media store, shared by every node.
CREATE TABLE media (
    id         BLOB    PRIMARY KEY,
    owner_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    size       INTEGER NOT NULL,
    hash       BLOB    NOT NULL,
    complete   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX media_by_owner ON media (owner_id);
CREATE INDEX media_by_expiry ON media (expires_at);

CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;
