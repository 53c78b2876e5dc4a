/* sql/eventstore--1.0.sql - install script of the eventstore extension, 1.0 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION eventstore" to load this file. \quit

/*
 * One row per aggregate: its type and current version (the number of events
 * appended to it).  append() locks this row to serialise writers of one
 * aggregate; readers never need it.
 */
CREATE TABLE eventstore.aggregates (
	aggregate_id	uuid		PRIMARY KEY,
	aggregate_type	text		NOT NULL CHECK (aggregate_type <> ''),
	version			bigint		NOT NULL CHECK (version > 0),
	created_at		timestamptz	NOT NULL DEFAULT pg_catalog.now(),
	updated_at		timestamptz	NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE eventstore.aggregates IS
	'One row per aggregate: type and current version (= number of events). Written only by eventstore.append().';

/*
 * One row per event.  (aggregate_id, version) is the order of an aggregate's
 * events; versions are 1-based and gapless because append() assigns them
 * under the aggregate row's lock.  The column order is part of the output
 * plugin's contract only by name, never by position.
 */
CREATE TABLE eventstore.events (
	aggregate_id	uuid		NOT NULL,
	version			bigint		NOT NULL CHECK (version > 0),
	aggregate_type	text		NOT NULL,
	event_id		uuid		NOT NULL,
	type			text		NOT NULL CHECK (type <> ''),
	data			jsonb		NOT NULL DEFAULT '{}',
	metadata		jsonb		NOT NULL DEFAULT '{}',
	recorded_at		timestamptz	NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT events_pkey PRIMARY KEY (aggregate_id, version),
	CONSTRAINT events_event_id_key UNIQUE (event_id)
);
COMMENT ON TABLE eventstore.events IS
	'Append-only event log, one row per event. Written only by eventstore.append(); UPDATE, DELETE and TRUNCATE are refused for everyone but the owner.';

-- Dumped with pg_dump like user data.
SELECT pg_catalog.pg_extension_config_dump('eventstore.aggregates', '');
SELECT pg_catalog.pg_extension_config_dump('eventstore.events', '');

/*
 * Append-only: UPDATE, DELETE and TRUNCATE of events are refused for every
 * role except the table's owner (and roles that are members of it), even if
 * someone grants those privileges by mistake.  The owner keeps the power to
 * repair or erase data (e.g. a legal erasure request).
 */
CREATE FUNCTION eventstore.forbid_event_changes()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	owner name;
BEGIN
	SELECT c.relowner::pg_catalog.regrole::text INTO owner
	  FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID;
	IF NOT pg_catalog.pg_has_role(current_user, owner, 'MEMBER') THEN
		RAISE EXCEPTION 'events are append-only: % on %.% is not allowed', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
			USING ERRCODE = 'VE009',
				  HINT = 'Append a compensating event with eventstore.append() instead.';
	END IF;
	IF TG_OP = 'TRUNCATE' THEN
		RETURN NULL;
	END IF;
	RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;
REVOKE ALL ON FUNCTION eventstore.forbid_event_changes() FROM PUBLIC;
COMMENT ON FUNCTION eventstore.forbid_event_changes() IS
	'Trigger function that keeps eventstore.events append-only for all roles but its owner.';

CREATE TRIGGER events_append_only
	BEFORE UPDATE OR DELETE ON eventstore.events
	FOR EACH ROW EXECUTE FUNCTION eventstore.forbid_event_changes();
CREATE TRIGGER events_no_truncate
	BEFORE TRUNCATE ON eventstore.events
	FOR EACH STATEMENT EXECUTE FUNCTION eventstore.forbid_event_changes();

/*
 * append(aggregate_id, aggregate_type, expected_version, events) -> new version
 *
 * The hot path, in C with cached plans.  SECURITY DEFINER so that writers
 * need no privilege on the tables themselves: append() is the only way in.
 */
CREATE FUNCTION eventstore.append(aggregate_id uuid, aggregate_type text,
								  expected_version bigint, events jsonb)
RETURNS bigint
LANGUAGE c
VOLATILE
CALLED ON NULL INPUT
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'eventstore_append';
REVOKE ALL ON FUNCTION eventstore.append(uuid, text, bigint, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION eventstore.append(uuid, text, bigint, jsonb) IS
	'Append a JSON array of events [{"type":..., "data":..., "metadata":..., "id":...}] to an aggregate atomically. expected_version: NULL = any, 0 = must not exist, N = must be at N. Returns the version of the last appended event.';

/*
 * version(aggregate_id) -> current version, 0 if the aggregate does not exist
 */
CREATE FUNCTION eventstore.version(aggregate_id uuid)
RETURNS bigint
LANGUAGE sql
STABLE
STRICT
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT COALESCE(
		(SELECT a.version FROM eventstore.aggregates a WHERE a.aggregate_id = version.aggregate_id),
		0);
END;
REVOKE ALL ON FUNCTION eventstore.version(uuid) FROM PUBLIC;
COMMENT ON FUNCTION eventstore.version(uuid) IS
	'Current version of an aggregate (number of events), 0 if it does not exist.';

/*
 * load(aggregate_id, from_version) -> the aggregate's events in version order
 */
CREATE FUNCTION eventstore.load(aggregate_id uuid, from_version bigint DEFAULT 1)
RETURNS SETOF eventstore.events
LANGUAGE sql
STABLE
STRICT
PARALLEL SAFE
ROWS 100
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT e.*
	  FROM eventstore.events e
	 WHERE e.aggregate_id = load.aggregate_id
	   AND e.version >= load.from_version
	 ORDER BY e.version;
END;
REVOKE ALL ON FUNCTION eventstore.load(uuid, bigint) FROM PUBLIC;
COMMENT ON FUNCTION eventstore.load(uuid, bigint) IS
	'The events of an aggregate from from_version on, in version order.';

/*
 * load_list(aggregate_id, from_version) -> the events as one jsonb array, the
 * shape of a DynamoDB item's Events list: [{"version", "event_id", "type",
 * "data", "metadata", "recorded_at"}, ...].  '[]' if there are none.
 */
CREATE FUNCTION eventstore.load_list(aggregate_id uuid, from_version bigint DEFAULT 1)
RETURNS jsonb
LANGUAGE sql
STABLE
STRICT
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT COALESCE(
		pg_catalog.jsonb_agg(
			pg_catalog.jsonb_build_object(
				'version', e.version,
				'event_id', e.event_id,
				'type', e.type,
				'data', e.data,
				'metadata', e.metadata,
				'recorded_at', e.recorded_at)
			ORDER BY e.version),
		'[]'::jsonb)
	  FROM eventstore.events e
	 WHERE e.aggregate_id = load_list.aggregate_id
	   AND e.version >= load_list.from_version;
END;
REVOKE ALL ON FUNCTION eventstore.load_list(uuid, bigint) FROM PUBLIC;
COMMENT ON FUNCTION eventstore.load_list(uuid, bigint) IS
	'The events of an aggregate from from_version on, as one jsonb array in version order.';

/*
 * Roles.  They are cluster-wide, so they are created only if missing and are
 * left in place by DROP EXTENSION.  All NOLOGIN: grant them to login roles.
 *   eventstore_writer  append + read
 *   eventstore_reader  read only
 *   eventstore_relay   read only; the relay's login role additionally needs
 *                      the REPLICATION attribute (not inheritable, so it
 *                      must be set on the login role itself).
 */
DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['eventstore_writer', 'eventstore_reader', 'eventstore_relay'] LOOP
		IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
END
$$;

REVOKE ALL ON SCHEMA eventstore FROM PUBLIC;
REVOKE ALL ON TABLE eventstore.events, eventstore.aggregates FROM PUBLIC;
GRANT USAGE ON SCHEMA eventstore TO eventstore_writer, eventstore_reader, eventstore_relay;
GRANT SELECT ON TABLE eventstore.events, eventstore.aggregates
	TO eventstore_writer, eventstore_reader, eventstore_relay;
GRANT EXECUTE ON FUNCTION eventstore.append(uuid, text, bigint, jsonb) TO eventstore_writer;
GRANT EXECUTE ON FUNCTION eventstore.version(uuid),
					   eventstore.load(uuid, bigint),
					   eventstore.load_list(uuid, bigint)
	TO eventstore_writer, eventstore_reader, eventstore_relay;
