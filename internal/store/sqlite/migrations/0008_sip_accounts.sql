-- 0008_sip_accounts: SIP accounts (phones that REGISTER) managed with
-- `switchboard sip-accounts`, each bound to a Graph identity.
--
-- Usernames compare case-insensitively (NOCASE) and are kept as created.
-- Only the digest hashes of the password are stored: ha1 is the hex MD5 and
-- ha1_sha256 the hex SHA-256 ('' for none) of username:realm:password, for
-- the realm stored with them. identity_id is a Graph user id or an E.164
-- number without spaces. tenant '' serves any tenant. created_at is INTEGER
-- unix nanoseconds (UTC), NULL for the zero time.
CREATE TABLE sip_accounts (
	username      TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
	realm         TEXT NOT NULL,
	ha1           TEXT NOT NULL CHECK (length(ha1) = 32),
	ha1_sha256    TEXT NOT NULL DEFAULT '' CHECK (ha1_sha256 = '' OR length(ha1_sha256) = 64),
	identity_kind TEXT NOT NULL CHECK (identity_kind IN ('user', 'phone')),
	identity_id   TEXT NOT NULL COLLATE NOCASE CHECK (identity_id <> ''),
	display_name  TEXT NOT NULL DEFAULT '',
	tenant        TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
	created_at    INTEGER
) STRICT;

-- Finds the accounts bound to an identity (Directory.Bound).
CREATE INDEX sip_accounts_identity ON sip_accounts (identity_kind, identity_id);
