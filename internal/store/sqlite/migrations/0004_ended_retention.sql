-- 0004_ended_retention: finds the conversations that ended before a time,
-- for the retention sweep that deletes them with their calls and outbox
-- rows. An ended conversation is never written again, so its updated_at is
-- when it ended.
CREATE INDEX conversations_ended ON conversations (updated_at) WHERE live = 0;
