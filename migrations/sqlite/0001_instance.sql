-- One row naming this deployment. Every node of a deployment shares it, so logs
-- and readiness reports from different nodes can be told apart from those of
-- another deployment that points at a different database by mistake.
CREATE TABLE instance (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    deployment_id TEXT    NOT NULL,
    created_at    INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;
