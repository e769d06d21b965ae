-- The nodes of a deployment, each with a heartbeat, and which devices are
-- connected to which node, so that presence is right across nodes. Rows of a
-- node whose heartbeat stopped (it crashed) are ignored and then swept.
CREATE TABLE nodes (
    id           BIGINT PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);

CREATE TABLE online_devices (
    device_id BIGINT PRIMARY KEY,
    user_id   BIGINT NOT NULL,
    node_id   BIGINT NOT NULL,
    since     BIGINT NOT NULL
);
CREATE INDEX online_devices_by_user ON online_devices (user_id);
CREATE INDEX online_devices_by_node ON online_devices (node_id);
