-- 0005_recent_calls: the console lists the live and recent calls (those
-- the retention sweep has not deleted yet) of every tenant, of a tenant, or
-- of one of its applications, newest first (Store.RecentCalls). Each of
-- those filters has an index in that order, so that a page reads no more
-- calls rows than it shows. A NULL created_at is the zero time, the oldest,
-- hence NULLS LAST. Tenant and application ids compare case-insensitively
-- through lower() under "C" (ASCII letters, as SQLite's lower() does).
CREATE INDEX calls_recent ON calls (created_at DESC NULLS LAST, id DESC);
CREATE INDEX calls_tenant_recent ON calls (lower(tenant_id COLLATE "C"), created_at DESC NULLS LAST, id DESC);
CREATE INDEX calls_tenant_app_recent ON calls (lower(tenant_id COLLATE "C"), lower(app_id COLLATE "C"), created_at DESC NULLS LAST, id DESC);
