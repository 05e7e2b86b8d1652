-- 0002_cluster: several nodes on one database (see internal/calls/cluster.go).
--
-- nodes holds one row per running node (a process run), renewed by its
-- heartbeat; leases one row per live conversation, naming its owner and
-- the epoch every write of the conversation must match. A lease whose
-- node_id is '' was released (a drain) and is claimable at once.

CREATE TABLE nodes (
	id         text COLLATE "C" NOT NULL PRIMARY KEY,
	name       text    NOT NULL,
	address    text    NOT NULL,
	expires_at bigint  NOT NULL,
	draining   boolean NOT NULL DEFAULT false
);

CREATE TABLE leases (
	conversation_id text COLLATE "C" NOT NULL PRIMARY KEY,
	node_id         text COLLATE "C" NOT NULL,
	epoch           bigint NOT NULL
);

CREATE INDEX leases_node ON leases (node_id);

-- The key that signs requests forwarded between nodes: one row, made by
-- the first node that needs it.
CREATE TABLE cluster_key (
	id  integer NOT NULL PRIMARY KEY CHECK (id = 1),
	key bytea   NOT NULL
);

-- switchboard_fence checks, inside a commit's transaction, that the
-- conversation is still leased to the node and epoch the commit was made
-- under, and keeps the lease row in step: created with a new live
-- conversation (epoch 1 only), removed when it ends. Otherwise it raises
-- SQLSTATE SB001, which aborts the whole commit.
CREATE FUNCTION switchboard_fence(conv text, node text, ep bigint, live boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	cur_node  text;
	cur_epoch bigint;
BEGIN
	SELECT node_id, epoch INTO cur_node, cur_epoch FROM leases WHERE conversation_id = conv FOR UPDATE;
	IF NOT FOUND THEN
		IF ep <> 1 OR EXISTS (SELECT 1 FROM conversations WHERE id = conv) THEN
			RAISE EXCEPTION 'conversation % is not leased to node % at epoch %', conv, node, ep USING ERRCODE = 'SB001';
		END IF;
		IF live THEN
			INSERT INTO leases (conversation_id, node_id, epoch) VALUES (conv, node, 1);
		END IF;
	ELSIF cur_node <> node OR cur_epoch <> ep THEN
		RAISE EXCEPTION 'conversation % is leased to node % at epoch %, not % at %', conv, cur_node, cur_epoch, node, ep USING ERRCODE = 'SB001';
	ELSIF NOT live THEN
		DELETE FROM leases WHERE conversation_id = conv;
	END IF;
END
$$;
