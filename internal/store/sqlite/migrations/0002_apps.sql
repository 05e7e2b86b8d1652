-- 0002_apps: registered applications, their client secrets (hashed) and
-- their certificates for client assertions.
--
-- Client ids compare case-insensitively (NOCASE), as Entra's GUIDs do, and
-- are kept as registered. Times are INTEGER unix nanoseconds (UTC); NULL
-- stands for the zero time (for expires_at: never).

CREATE TABLE apps (
	client_id    TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
	tenant_id    TEXT NOT NULL,
	display_name TEXT NOT NULL DEFAULT '',
	-- JSON array of app role names, such as ["Calls.Initiate.All"].
	roles        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(roles) AND json_type(roles) = 'array'),
	-- Receives the notifications of the app's incoming calls; '' for none.
	webhook_url  TEXT NOT NULL DEFAULT '',
	created_at   INTEGER
) STRICT;

-- Client secrets. Only the SHA-256 of a secret is stored: generated
-- secrets carry 256 random bits, so a fast hash loses nothing. hint is the
-- secret's first characters, for telling secrets apart.
CREATE TABLE app_secrets (
	id         TEXT NOT NULL PRIMARY KEY,
	client_id  TEXT NOT NULL COLLATE NOCASE REFERENCES apps (client_id) ON DELETE CASCADE,
	sha256     BLOB NOT NULL CHECK (length(sha256) = 32),
	hint       TEXT NOT NULL DEFAULT '',
	created_at INTEGER,
	expires_at INTEGER
) STRICT;

CREATE INDEX app_secrets_client ON app_secrets (client_id);

-- Certificates whose keys sign client assertions. x5t is the SHA-1 and
-- x5t_s256 the SHA-256 thumbprint of the DER certificate, base64url without
-- padding, as the assertion's x5t and x5t#S256 headers carry them.
CREATE TABLE app_certificates (
	client_id  TEXT NOT NULL COLLATE NOCASE REFERENCES apps (client_id) ON DELETE CASCADE,
	x5t        TEXT NOT NULL,
	x5t_s256   TEXT NOT NULL,
	pem        TEXT NOT NULL,
	created_at INTEGER,
	PRIMARY KEY (client_id, x5t_s256)
) STRICT;
