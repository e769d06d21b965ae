-- Each group's invite link: a random token its admin set; whoever presents
-- it joins the group. One per group: a new token replaces the old one.
CREATE TABLE group_invites (
    group_id   BIGINT PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    token      BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
