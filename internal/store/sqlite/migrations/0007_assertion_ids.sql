-- 0007_assertion_ids: the ids (jti) of the client assertions already used,
-- so that an assertion is accepted once only, across restarts. A row may be
-- deleted once expires_at (unix nanoseconds) has passed: the assertion is
-- refused as expired by then. client_id is stored in lower case.
CREATE TABLE assertion_ids (
	client_id  TEXT    NOT NULL,
	jti        TEXT    NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (client_id, jti)
) STRICT;

-- Counts a client's unexpired ids for its quota.
CREATE INDEX assertion_ids_client_expires ON assertion_ids (client_id, expires_at);
-- Finds expired ids for the sweep.
CREATE INDEX assertion_ids_expires ON assertion_ids (expires_at);
