-- Each group's invite link: a random token its admin set; whoever presents
-- it joins the group. One per group: a new token replaces the old one.
CREATE TABLE group_invites (
    group_id   INTEGER PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    token      BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;
