-- 0001_init: conversations, their call legs, the notification outbox and the
-- callback signing keys.
--
-- Times are INTEGER unix nanoseconds (UTC); NULL stands for the zero time.

-- One row per conversation. data is the JSON of the whole
-- *calls.Conversation and is the only column read back into the domain; the
-- others exist for queries.
CREATE TABLE conversations (
	id         TEXT    NOT NULL PRIMARY KEY,
	tenant_id  TEXT    NOT NULL,
	live       INTEGER NOT NULL CHECK (live IN (0, 1)),
	data       TEXT    NOT NULL,
	created_at INTEGER,
	updated_at INTEGER
) STRICT;

CREATE INDEX conversations_live ON conversations (created_at, id) WHERE live = 1;

-- One row per call leg, rewritten from the conversation on every commit, for
-- listing and queries.
CREATE TABLE calls (
	id              TEXT    NOT NULL PRIMARY KEY,
	conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	tenant_id       TEXT    NOT NULL,
	app_id          TEXT    NOT NULL,
	state           TEXT    NOT NULL,
	created_at      INTEGER,
	updated_at      INTEGER,
	ended_at        INTEGER
) STRICT;

CREATE INDEX calls_tenant_app_state ON calls (tenant_id, app_id, state);
CREATE INDEX calls_conversation ON calls (conversation_id);

-- The transactional outbox: one row per commsNotifications body to POST.
CREATE TABLE outbox (
	call_id         TEXT    NOT NULL,
	seq             INTEGER NOT NULL,
	url             TEXT    NOT NULL,
	body            BLOB    NOT NULL,
	app_id          TEXT    NOT NULL,
	tenant_id       TEXT    NOT NULL,
	chain_id        TEXT    NOT NULL,
	created_at      INTEGER,
	status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'gaveUp')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER,
	last_error      TEXT    NOT NULL DEFAULT '',
	delivered_at    INTEGER,
	PRIMARY KEY (call_id, seq)
) STRICT;

CREATE INDEX outbox_pending ON outbox (call_id, seq) WHERE status = 'pending';

-- Private keys that sign callback tokens, PEM-encoded.
CREATE TABLE signing_keys (
	id          TEXT NOT NULL PRIMARY KEY,
	private_pem BLOB NOT NULL,
	created_at  INTEGER
) STRICT;
