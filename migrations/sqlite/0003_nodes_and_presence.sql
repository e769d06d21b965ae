-- The nodes of a deployment, each with a heartbeat, and which devices are
-- connected to which node, so that presence is right across nodes. Rows of a
-- node whose heartbeat stopped (it crashed) are ignored and then swept.
CREATE TABLE nodes (
    id           INTEGER PRIMARY KEY,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
) STRICT;

CREATE TABLE online_devices (
    device_id INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL,
    node_id   INTEGER NOT NULL,
    since     INTEGER NOT NULL
) STRICT;
CREATE INDEX online_devices_by_user ON online_devices (user_id);
CREATE INDEX online_devices_by_node ON online_devices (node_id);
