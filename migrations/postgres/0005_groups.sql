-- Group chats: only the membership the server needs to route messages. Group
-- names, topics and every message stay end-to-end encrypted between the
-- members' devices. `version` grows with every membership change.
CREATE TABLE groups (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version    BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_id BIGINT  NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    admin    BOOLEAN NOT NULL,
    added_at BIGINT  NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_by_user ON group_members (user_id);
