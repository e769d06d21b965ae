-- A payload is stored once. A message to many devices (a fan-out, a group
-- message, a receipt) keeps its payload in one `payloads` row that its queue
-- rows reference (`payload_id`, with `payload` NULL); a message to one device
-- keeps its payload in its queue row. `refs` counts the rows that reference
-- a payload; the trigger below deletes the payload with its last row (by an
-- acknowledgement, expiry or a removed device alike). The sweeper also
-- deletes payloads past their expiry.
CREATE TABLE payloads (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    data       BYTEA   NOT NULL,
    refs       INTEGER NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX payloads_by_expiry ON payloads (expires_at);

-- Repeats are stopped by `accepted`, and an acknowledged entry is deleted by
-- its `seq`, which the device's session read with it: the UNIQUE (device_id,
-- entry_id) index goes (one index fewer to write per row).
ALTER TABLE queue DROP CONSTRAINT queue_device_id_entry_id_key;
ALTER TABLE queue ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE queue ADD COLUMN payload_id BIGINT;
ALTER TABLE queue ADD CONSTRAINT queue_one_payload
    CHECK ((payload IS NULL) <> (payload_id IS NULL));

-- One statement-level trigger per DELETE: the payloads its rows referenced
-- lose those references, in id order (so that two transactions releasing the
-- same payloads lock them in the same order), and go when none are left.
CREATE FUNCTION queue_release_payloads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM payloads
        WHERE id IN (SELECT payload_id FROM released WHERE payload_id IS NOT NULL)
        ORDER BY id FOR UPDATE;
    UPDATE payloads p SET refs = p.refs - r.n
        FROM (SELECT payload_id, count(*) AS n FROM released
              WHERE payload_id IS NOT NULL GROUP BY payload_id) r
        WHERE p.id = r.payload_id;
    DELETE FROM payloads
        WHERE id IN (SELECT payload_id FROM released WHERE payload_id IS NOT NULL)
          AND refs <= 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER queue_releases_payloads AFTER DELETE ON queue
    REFERENCING OLD TABLE AS released
    FOR EACH STATEMENT EXECUTE FUNCTION queue_release_payloads();

-- How many entries wait for each device, so that a full queue is refused
-- without counting it. The queue writer keeps it in step in the same
-- transaction as the rows; a removed device takes its count with it.
CREATE TABLE queue_counts (
    device_id BIGINT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    entries   BIGINT NOT NULL
);
INSERT INTO queue_counts (device_id, entries)
    SELECT device_id, COUNT(*) FROM queue GROUP BY device_id;
