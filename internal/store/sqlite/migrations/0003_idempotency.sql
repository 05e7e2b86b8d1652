-- 0003_idempotency: the responses remembered for requests made with an
-- Idempotency-Key header, so that a retry gets the first response again.
--
-- Times are INTEGER unix nanoseconds (UTC); NULL stands for the zero time.
-- (The notification log reads the outbox of 0001 as it is.)

-- One row per key of a scope (a tenant and application). status is NULL
-- while the first request with the key is in flight; then status, header
-- (a JSON object of header name to array of values) and body are its
-- response. The row counts until expires_at and may be deleted after.
CREATE TABLE idempotency (
	scope        TEXT    NOT NULL,
	key          TEXT    NOT NULL,
	request_hash BLOB    NOT NULL,
	token        TEXT    NOT NULL,
	status       INTEGER,
	header       TEXT    CHECK (header IS NULL OR json_valid(header)),
	body         BLOB,
	created_at   INTEGER,
	expires_at   INTEGER NOT NULL,
	PRIMARY KEY (scope, key)
) STRICT;

CREATE INDEX idempotency_expires ON idempotency (expires_at);
