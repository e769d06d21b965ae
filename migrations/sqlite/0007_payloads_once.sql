-- A payload is stored once. A message to many devices (a fan-out, a group
-- message, a receipt) keeps its payload in one `payloads` row that its queue
-- rows reference (`payload_id`, with `payload` NULL); a message to one device
-- keeps its payload in its queue row. `refs` counts the rows that reference
-- a payload; the trigger below deletes the payload with its last row (by an
-- acknowledgement, expiry or a removed device alike). The sweeper also
-- deletes payloads past their expiry.
CREATE TABLE payloads (
    id         INTEGER PRIMARY KEY,
    data       BLOB    NOT NULL,
    refs       INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX payloads_by_expiry ON payloads (expires_at);

-- The queue again, with the payload reference. Dropped on the way: the
-- AUTOINCREMENT counter (a plain rowid keeps its order for live rows and
-- costs no sqlite_sequence write per insert) and the UNIQUE (device_id,
-- entry_id) index: repeats are stopped by `accepted`, and an acknowledged
-- entry is deleted by its `seq`, which the device's session read with it.
CREATE TABLE queue_new (
    seq           INTEGER PRIMARY KEY,
    device_id     INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    entry_id      BLOB    NOT NULL,
    kind          INTEGER NOT NULL,
    sender_user   INTEGER NOT NULL,
    sender_device INTEGER NOT NULL,
    payload       BLOB,
    payload_id    INTEGER,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    CHECK ((payload IS NULL) <> (payload_id IS NULL))
) STRICT;
INSERT INTO queue_new (seq, device_id, entry_id, kind, sender_user, sender_device, payload,
                       created_at, expires_at)
    SELECT seq, device_id, entry_id, kind, sender_user, sender_device, payload, created_at,
           expires_at
    FROM queue;
DROP TABLE queue;
ALTER TABLE queue_new RENAME TO queue;
CREATE INDEX queue_by_device ON queue (device_id, seq);
CREATE INDEX queue_by_expiry ON queue (expires_at);

CREATE TRIGGER queue_releases_payload AFTER DELETE ON queue
WHEN OLD.payload_id IS NOT NULL
BEGIN
    UPDATE payloads SET refs = refs - 1 WHERE id = OLD.payload_id;
    DELETE FROM payloads WHERE id = OLD.payload_id AND refs <= 0;
END;

-- How many entries wait for each device, so that a full queue is refused
-- without counting it. The queue writer keeps it in step in the same
-- transaction as the rows; a removed device takes its count with it.
CREATE TABLE queue_counts (
    device_id INTEGER PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    entries   INTEGER NOT NULL
) STRICT;
INSERT INTO queue_counts (device_id, entries)
    SELECT device_id, COUNT(*) FROM queue GROUP BY device_id;
