-- 0004_recordings: the metadata of every recording, shared by the nodes of
-- a cluster: any node checks a recording's token and knows which node has
-- its file (node_address: its advertised address, which outlives a restart
-- on the same data directory, unlike its id). The audio stays in files.

CREATE TABLE recordings (
	id           text COLLATE "C" NOT NULL PRIMARY KEY,
	token_sha256 text   NOT NULL,
	tenant_id    text   NOT NULL,
	app_id       text   NOT NULL,
	call_id      text   NOT NULL,
	operation_id text   NOT NULL,
	node_address text   NOT NULL,
	expires_at   bigint NOT NULL
);

CREATE INDEX recordings_expires ON recordings (expires_at);
