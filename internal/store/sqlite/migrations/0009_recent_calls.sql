-- 0009_recent_calls: the console lists the live and recent calls (those
-- the retention sweep has not deleted yet) of every tenant, of a tenant, or
-- of one of its applications, newest first (Store.RecentCalls). Each of
-- those filters has an index in that order, read backwards, so that a page
-- reads no more calls rows than it shows. Tenant and application ids
-- compare case-insensitively, through lower().
CREATE INDEX calls_recent ON calls (created_at, id);
CREATE INDEX calls_tenant_recent ON calls (lower(tenant_id), created_at, id);
CREATE INDEX calls_tenant_app_recent ON calls (lower(tenant_id), lower(app_id), created_at, id);
