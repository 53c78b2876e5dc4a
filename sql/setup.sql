-- setup: what CREATE EXTENSION eventstore installs (pg_regress loaded it);
-- the same for both flavours (tests/regress.sh ES_FLAVOUR): the SQL flavour
-- is version <version>-sql of the same extension
SELECT extname, regexp_replace(extversion, '-sql$', '') AS extversion, extnamespace::regnamespace
  FROM pg_extension WHERE extname = 'eventstore';

-- tables and their columns
SELECT attrelid::regclass AS tbl, attname, format_type(atttypid, atttypmod) AS type, attnotnull
  FROM pg_attribute
 WHERE attrelid IN ('eventstore.events'::regclass, 'eventstore.aggregates'::regclass)
   AND attnum > 0 AND NOT attisdropped
 ORDER BY attrelid::regclass::text, attnum;

-- every function pins search_path; only append is SECURITY DEFINER (and
-- only its language differs between the flavours)
SELECT p.proname, p.prosecdef, p.proconfig,
	   CASE WHEN p.proname = 'append' AND l.lanname IN ('c', 'plpgsql') THEN 'c or plpgsql' ELSE l.lanname END AS lanname
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'eventstore'::regnamespace
 ORDER BY p.proname;

-- nothing is executable or readable by PUBLIC
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_execute
  FROM pg_proc p WHERE p.pronamespace = 'eventstore'::regnamespace ORDER BY 1;
SELECT has_table_privilege('public', 'eventstore.events', 'SELECT') AS public_reads_events,
       has_schema_privilege('public', 'eventstore', 'USAGE') AS public_uses_schema;

-- the three roles exist and cannot log in
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'eventstore\_%' ORDER BY 1;

-- helper used by the other tests: run a statement, report SQLSTATE and message
CREATE FUNCTION public.try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- helper used by the decoding tests: hide what changes from run to run in an
-- envelope (times, LSNs, xids, generated ids), keeping it valid JSON
CREATE FUNCTION public.mask_envelope(data text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT regexp_replace(regexp_replace(regexp_replace(regexp_replace(data,
		'"(recorded_at|commit_time)": ?"[0-9T:.-]+Z"', '"\1":"<time>"', 'g'),
		'"(lsn|end_lsn)":"[0-9A-F]+/[0-9A-F]+"', '"\1":"<lsn>"', 'g'),
		'"xid":[0-9]+', '"xid":"<xid>"', 'g'),
		'"event_id": ?"[0-9a-f-]{36}"', '"event_id":"<id>"', 'g')
$$;
