-- flavours: one database moves between the C flavour (version <v>) and the
-- SQL flavour (<v>-sql) with ALTER EXTENSION ... UPDATE TO; the tables and
-- their rows are untouched, and what one flavour appended the other loads,
-- retries idempotently and continues.  Runs from either flavour and goes back
-- (so "already installed" notices depend on where it starts: hidden).
SET client_min_messages = warning;
SELECT extversion AS start_version, regexp_replace(extversion, '-sql$', '') AS c_version,
	   regexp_replace(extversion, '-sql$', '') || '-sql' AS sql_version
  FROM pg_extension WHERE extname = 'eventstore' \gset
CREATE TEMP TABLE before AS
SELECT c.relname, c.relfilenode FROM pg_class c
 WHERE c.relnamespace = 'eventstore'::regnamespace AND c.relkind IN ('r', 'i');
CREATE FUNCTION pg_temp.flavour() RETURNS text LANGUAGE sql AS $$
	SELECT l.lanname || ' ' || e.extversion
	  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang, pg_extension e
	 WHERE p.oid = 'eventstore.append(uuid, text, bigint, jsonb)'::regprocedure AND e.extname = 'eventstore'
$$;

ALTER EXTENSION eventstore UPDATE TO :'c_version';
SELECT regexp_replace(pg_temp.flavour(), '[0-9.]+', 'V') AS flavour;
SELECT eventstore.append('80000000-0000-0000-0000-000000000001', 'cart', 0,
	'[{"type": "CartOpened", "id": "81000000-0000-0000-0000-000000000001"},
	  {"type": "ItemAdded", "data": {"sku": "A"}, "id": "81000000-0000-0000-0000-000000000002"}]');

ALTER EXTENSION eventstore UPDATE TO :'sql_version';
SELECT regexp_replace(pg_temp.flavour(), '[0-9.]+', 'V') AS flavour;
-- what C appended: loaded, retried (nothing stored), continued
SELECT version, type, data FROM eventstore.load('80000000-0000-0000-0000-000000000001');
SELECT eventstore.append('80000000-0000-0000-0000-000000000001', 'cart', 0,
	'[{"type": "CartOpened", "id": "81000000-0000-0000-0000-000000000001"},
	  {"type": "ItemAdded", "data": {"sku": "A"}, "id": "81000000-0000-0000-0000-000000000002"}]') AS retry;
SELECT try($$SELECT eventstore.append('80000000-0000-0000-0000-000000000001', 'cart', 0, '[{"type": "X"}]')$$);
SELECT eventstore.append('80000000-0000-0000-0000-000000000001', 'cart', 2,
	'[{"type": "ItemAdded", "data": {"sku": "B"}, "id": "81000000-0000-0000-0000-000000000003"}]');

ALTER EXTENSION eventstore UPDATE TO :'c_version';
SELECT regexp_replace(pg_temp.flavour(), '[0-9.]+', 'V') AS flavour;
-- what SQL appended: the same
SELECT eventstore.append('80000000-0000-0000-0000-000000000001', 'cart', 2,
	'[{"type": "ItemAdded", "data": {"sku": "B"}, "id": "81000000-0000-0000-0000-000000000003"}]') AS retry;
SELECT try($$SELECT eventstore.append('80000000-0000-0000-0000-000000000001', 'cart', 1,
	'[{"type": "ItemAdded", "data": {"sku": "B"}, "id": "81000000-0000-0000-0000-000000000003"}]')$$);
SELECT version, type, data, event_id FROM eventstore.load('80000000-0000-0000-0000-000000000001');
SELECT eventstore.version('80000000-0000-0000-0000-000000000001');

-- nothing was rewritten: the same relations, the same files
ALTER EXTENSION eventstore UPDATE TO :'start_version';
SELECT b.relname, c.relfilenode = b.relfilenode AS same_file
  FROM before b JOIN pg_class c ON c.relname = b.relname AND c.relnamespace = 'eventstore'::regnamespace
 ORDER BY 1;
SELECT extversion = :'start_version' AS back_at_start FROM pg_extension WHERE extname = 'eventstore';
-- the grants survive the switches
SELECT has_function_privilege('eventstore_writer', 'eventstore.append(uuid, text, bigint, jsonb)', 'EXECUTE') AS writer_appends,
	   has_function_privilege('public', 'eventstore.append(uuid, text, bigint, jsonb)', 'EXECUTE') AS public_appends;
