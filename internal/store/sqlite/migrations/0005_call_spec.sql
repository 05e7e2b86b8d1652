-- 0005_call_spec: what the application asked for when it created a call
-- (calls.Call.Spec, JSON) is written once, with the call's first commit,
-- instead of inside conversations.data on every commit. NULL: the spec is
-- still inside data, as a build before this migration wrote it.
ALTER TABLE calls ADD COLUMN spec TEXT;
