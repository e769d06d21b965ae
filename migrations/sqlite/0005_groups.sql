-- Group chats: only the membership the server needs to route messages. Group
-- names, topics and every message stay end-to-end encrypted between the
-- members' devices. `version` grows with every membership change.
CREATE TABLE groups (
    id         INTEGER PRIMARY KEY,
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    admin    INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
) STRICT;
CREATE INDEX group_members_by_user ON group_members (user_id);
