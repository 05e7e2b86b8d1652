-- 0001_init: the whole schema of the first PostgreSQL store, the same
-- tables as the SQLite store's migrations 0001 to 0008.
--
-- Times are bigint unix nanoseconds (UTC), NULL for the zero time, as in
-- the SQLite store: timestamptz keeps microseconds only, and Switchboard's
-- times round-trip to the nanosecond. Ids and keys are text COLLATE "C":
-- compared and ordered byte by byte, as SQLite does, whatever the
-- database's locale. Names that compare case-insensitively (client ids, SIP
-- usernames) are kept as given, with a unique index on lower() and every
-- lookup made through lower(), which under "C" folds ASCII letters only, as
-- SQLite's NOCASE does.

-- One row per conversation. data is the conversation as store/codec
-- encodes it (JSON, without its legs' specs) and is the only column read
-- back into the domain; the others exist for queries.
CREATE TABLE conversations (
	id         text COLLATE "C" NOT NULL PRIMARY KEY,
	tenant_id  text    NOT NULL,
	live       boolean NOT NULL,
	data       bytea   NOT NULL,
	created_at bigint,
	updated_at bigint
);

CREATE INDEX conversations_live ON conversations (created_at, id) WHERE live;
-- The retention sweep: an ended conversation is never written again, so
-- its updated_at is when it ended.
CREATE INDEX conversations_ended ON conversations (updated_at) WHERE NOT live;

-- One row per call leg, for listing and queries. spec is what the
-- application asked for when it created the call (JSON), written once.
CREATE TABLE calls (
	id              text COLLATE "C" NOT NULL PRIMARY KEY,
	conversation_id text COLLATE "C" NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	tenant_id       text   NOT NULL,
	app_id          text   NOT NULL,
	state           text   NOT NULL,
	created_at      bigint,
	updated_at      bigint,
	ended_at        bigint,
	spec            bytea
);

CREATE INDEX calls_tenant_app_state ON calls (tenant_id, app_id, state);
CREATE INDEX calls_conversation ON calls (conversation_id);

-- The transactional outbox: one row per commsNotifications body to POST,
-- and its delivery state (the notification log).
CREATE TABLE outbox (
	call_id         text COLLATE "C" NOT NULL,
	seq             bigint  NOT NULL,
	url             text    NOT NULL,
	body            bytea   NOT NULL,
	app_id          text    NOT NULL,
	tenant_id       text    NOT NULL,
	chain_id        text    NOT NULL,
	created_at      bigint,
	status          text    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'gaveUp')),
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at bigint,
	last_error      text    NOT NULL DEFAULT '',
	delivered_at    bigint,
	PRIMARY KEY (call_id, seq)
);

CREATE INDEX outbox_pending ON outbox (call_id, seq) WHERE status = 'pending';

-- Private keys that sign tokens and callbacks, PEM-encoded.
CREATE TABLE signing_keys (
	id          text COLLATE "C" NOT NULL PRIMARY KEY,
	private_pem bytea NOT NULL,
	created_at  bigint
);

-- Registered applications. roles is a JSON array of app role names;
-- webhook_url receives the notifications of the app's incoming calls ('' for
-- none).
CREATE TABLE apps (
	client_id    text COLLATE "C" NOT NULL PRIMARY KEY,
	tenant_id    text NOT NULL,
	display_name text NOT NULL DEFAULT '',
	roles        text NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(roles::jsonb) = 'array'),
	webhook_url  text NOT NULL DEFAULT '',
	created_at   bigint
);

CREATE UNIQUE INDEX apps_client_id_lower ON apps (lower(client_id));

-- Client secrets: only their SHA-256. hint is the secret's first
-- characters, for telling secrets apart.
CREATE TABLE app_secrets (
	id         text COLLATE "C" NOT NULL PRIMARY KEY,
	client_id  text COLLATE "C" NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
	sha256     bytea NOT NULL CHECK (length(sha256) = 32),
	hint       text  NOT NULL DEFAULT '',
	created_at bigint,
	expires_at bigint
);

CREATE INDEX app_secrets_client ON app_secrets (client_id);

-- Certificates whose keys sign client assertions, with their SHA-1 (x5t)
-- and SHA-256 (x5t_s256) thumbprints, base64url without padding.
CREATE TABLE app_certificates (
	client_id  text COLLATE "C" NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
	x5t        text NOT NULL,
	x5t_s256   text COLLATE "C" NOT NULL,
	pem        text NOT NULL,
	created_at bigint,
	PRIMARY KEY (client_id, x5t_s256)
);

-- The responses remembered for requests made with an Idempotency-Key. status
-- is NULL while the first request with the key is in flight; then status,
-- header (a JSON object of header name to array of values) and body are its
-- response. The row counts until expires_at and may be deleted after.
CREATE TABLE idempotency (
	scope        text COLLATE "C" NOT NULL,
	key          text COLLATE "C" NOT NULL,
	request_hash bytea  NOT NULL,
	token        text   NOT NULL,
	status       integer,
	header       text,
	body         bytea,
	created_at   bigint,
	expires_at   bigint NOT NULL,
	PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_expires ON idempotency (expires_at);
CREATE INDEX idempotency_scope_created ON idempotency (scope, created_at);

-- The ids (jti) of client assertions already used, until they expire;
-- client_id is stored in lower case.
CREATE TABLE assertion_ids (
	client_id  text COLLATE "C" NOT NULL,
	jti        text COLLATE "C" NOT NULL,
	expires_at bigint NOT NULL,
	PRIMARY KEY (client_id, jti)
);

CREATE INDEX assertion_ids_client_expires ON assertion_ids (client_id, expires_at);
CREATE INDEX assertion_ids_expires ON assertion_ids (expires_at);

-- SIP accounts (phones that REGISTER), each bound to a Graph identity. Only
-- the digest hashes of the password are stored: ha1 is the hex MD5 and
-- ha1_sha256 the hex SHA-256 ('' for none) of username:realm:password.
-- identity_id is a Graph user id or an E.164 number; it and tenant compare
-- case-insensitively. tenant '' serves any tenant.
CREATE TABLE sip_accounts (
	username      text COLLATE "C" NOT NULL PRIMARY KEY,
	realm         text NOT NULL,
	ha1           text NOT NULL CHECK (length(ha1) = 32),
	ha1_sha256    text NOT NULL DEFAULT '' CHECK (ha1_sha256 = '' OR length(ha1_sha256) = 64),
	identity_kind text NOT NULL CHECK (identity_kind IN ('user', 'phone')),
	identity_id   text COLLATE "C" NOT NULL CHECK (identity_id <> ''),
	display_name  text NOT NULL DEFAULT '',
	tenant        text COLLATE "C" NOT NULL DEFAULT '',
	created_at    bigint
);

CREATE UNIQUE INDEX sip_accounts_username_lower ON sip_accounts (lower(username));
CREATE INDEX sip_accounts_identity ON sip_accounts (identity_kind, lower(identity_id));
