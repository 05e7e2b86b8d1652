-- 0003_meeting_key: a live meeting is found by its key (tenant and join id,
-- thread id or token) from any node, and is started once: the unique index
-- refuses a second live meeting with the same key, as when two nodes start
-- it at once (the second one's commit fails and its client retries, to be
-- forwarded to the first).

ALTER TABLE conversations ADD COLUMN meeting_key text COLLATE "C" NOT NULL DEFAULT '';

CREATE UNIQUE INDEX conversations_live_meeting ON conversations (meeting_key) WHERE live AND meeting_key <> '';
