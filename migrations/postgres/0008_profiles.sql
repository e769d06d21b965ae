-- Each user's profile (display name, about line, photo), sealed by its
-- owner under a key the server never sees: stored and handed out as it is.
CREATE TABLE profiles (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed     BYTEA NOT NULL,
    updated_at BIGINT NOT NULL
);
