-- 0006_idempotency_quota: a scope (a tenant and application) holds at most
-- a quota of idempotency records; to make room for a new key the oldest of
-- its records that are not in flight are deleted. This index finds them,
-- and counts a scope's records, without a scan of the table.
CREATE INDEX idempotency_scope_created ON idempotency (scope, created_at);
