-- Each user's profile (display name, about line, photo), sealed by its
-- owner under a key the server never sees: stored and handed out as it is.
CREATE TABLE profiles (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed     BLOB NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
