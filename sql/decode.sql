-- decode: the output plugin emits only appended events, in commit order
SET synchronous_commit = on;
SELECT 'init' FROM pg_create_logical_replication_slot('es_slot', 'eventstore');

CREATE FUNCTION public.changes(VARIADIC opts text[] DEFAULT '{}') RETURNS SETOF text
LANGUAGE sql AS $$
	SELECT public.mask_envelope(data) FROM pg_logical_slot_get_changes('es_slot', NULL, NULL, VARIADIC opts)
$$;

-- one committed append: one line per event, the whole envelope
SELECT eventstore.append('f0000000-0000-0000-0000-000000000001', 'cart', 0,
	'[{"type": "CartOpened", "data": {"customer": "ann"}, "id": "f1000000-0000-0000-0000-000000000001"},
	  {"type": "ItemAdded", "data": {"sku": "A-1", "qty": 2, "price": 9.90}, "metadata": {"user": "ann"}}]');
SELECT * FROM changes();

-- every line is valid JSON whose fields match the stored row
SELECT eventstore.append('f0000000-0000-0000-0000-000000000001', 'cart', 2, '[{"type": "ItemAdded", "data": {"sku": "B"}}]');
SELECT (j->>'version')::bigint = e.version AND (j->>'event_id')::uuid = e.event_id
	   AND j->'data' = e.data AND (j->>'recorded_at')::timestamptz = e.recorded_at AS matches,
	   j->'source'->>'database' AS db,
	   (j->'source'->>'lsn')::pg_lsn IS NOT NULL AS has_lsn,
	   (j->'source'->>'xid')::xid IS NOT NULL AS has_xid,
	   (j->'source'->>'commit_time')::timestamptz >= e.recorded_at AS commit_after_record
  FROM (SELECT data::jsonb AS j FROM pg_logical_slot_get_changes('es_slot', NULL, NULL)) c
  JOIN eventstore.events e ON e.aggregate_id = (j->>'aggregate_id')::uuid AND e.version = (j->>'version')::bigint;

-- aborted transaction: nothing
BEGIN;
SELECT eventstore.append('f0000000-0000-0000-0000-000000000002', 'cart', 0, '[{"type": "CartOpened"}]');
ROLLBACK;
SELECT * FROM changes();

-- rolled-back subtransaction: only the surviving events
BEGIN;
SELECT eventstore.append('f0000000-0000-0000-0000-000000000003', 'cart', 0, '[{"type": "Kept1"}]');
SAVEPOINT sp;
SELECT eventstore.append('f0000000-0000-0000-0000-000000000003', 'cart', 1, '[{"type": "RolledBack"}]');
ROLLBACK TO SAVEPOINT sp;
SELECT eventstore.append('f0000000-0000-0000-0000-000000000003', 'cart', 1, '[{"type": "Kept2"}]');
SAVEPOINT sp2;
SELECT eventstore.append('f0000000-0000-0000-0000-000000000003', 'cart', 2, '[{"type": "KeptInReleasedSavepoint"}]');
RELEASE SAVEPOINT sp2;
COMMIT;
SELECT * FROM changes('include-source', 'off');

-- other tables, and the aggregates table itself: nothing
CREATE TABLE public.other (id int PRIMARY KEY, v text);
INSERT INTO public.other VALUES (1, 'a'), (2, 'b');
UPDATE public.other SET v = 'c';
DELETE FROM public.other WHERE id = 1;
TRUNCATE public.other;
UPDATE eventstore.aggregates SET updated_at = now() WHERE aggregate_id = 'f0000000-0000-0000-0000-000000000001';
SELECT * FROM changes();

-- UPDATE, DELETE and TRUNCATE of events by the owner: nothing
UPDATE eventstore.events SET metadata = '{"fixed": true}' WHERE aggregate_id = 'f0000000-0000-0000-0000-000000000003';
DELETE FROM eventstore.events WHERE aggregate_id = 'f0000000-0000-0000-0000-000000000003' AND version = 3;
SELECT * FROM changes();

-- events and other tables in one transaction: only the events
BEGIN;
INSERT INTO public.other VALUES (5, 'x');
SELECT eventstore.append('f0000000-0000-0000-0000-000000000004', 'cart', 0, '[{"type": "Mixed"}]');
INSERT INTO public.other VALUES (6, 'y');
COMMIT;
SELECT * FROM changes('include-source', 'off');

-- commit order, not append order: the transaction that commits first comes first
-- (the isolation test decode_interleaved shows this with two sessions)

-- JSON escaping: quotes, backslashes, control characters, non-ASCII, in every text field
SELECT eventstore.append('f0000000-0000-0000-0000-000000000005', E'ca"rt\\\n',
	0, jsonb_build_array(jsonb_build_object(
		'type', E'Q"uo\\te\t\u0001',
		'data', jsonb_build_object(E'k"\n', E'tab\there "q" back\\slash \u001f', 'emoji', '😀 ü ß 日本', 'ctl', E'\b\f\r'),
		'metadata', jsonb_build_object('s', '</script>'))));
SELECT c AS raw, c::jsonb->>'aggregate_type' = E'ca"rt\\\n' AS agg_type_roundtrips,
	   c::jsonb->>'type' = E'Q"uo\\te\t\u0001' AS type_roundtrips,
	   c::jsonb->'data' = e.data AS data_roundtrips
  FROM changes('include-source', 'off') c
  JOIN eventstore.events e ON e.aggregate_id = 'f0000000-0000-0000-0000-000000000005';

-- numbers keep their text; nested containers stay compact
SELECT eventstore.append('f0000000-0000-0000-0000-000000000006', 'n', 0,
	'[{"type": "N", "data": {"big": 123456789012345678901234567890.123456789, "neg": -0.0001, "e": 1e3, "arr": [[], {}, [1, [2]]]}}]');
SELECT * FROM changes('include-source', 'off');

-- a large, TOASTed event is emitted whole
SELECT eventstore.append('f0000000-0000-0000-0000-000000000007', 'big', 0,
	jsonb_build_array(jsonb_build_object('type', 'Big', 'data',
		jsonb_build_object('blob', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 6000) i)))));
SELECT pg_column_size(data) > 2000 AS toasted_size, length(data::text) AS stored_len
  FROM eventstore.events WHERE aggregate_id = 'f0000000-0000-0000-0000-000000000007';
SELECT length(c::jsonb->'data'->>'blob') AS emitted_blob_len,
	   c::jsonb->'data' = e.data AS identical
  FROM changes() c JOIN eventstore.events e ON e.aggregate_id = 'f0000000-0000-0000-0000-000000000007';

-- many events in one transaction, in order
BEGIN;
SELECT count(eventstore.append('f0000000-0000-0000-0000-000000000008', 'many', NULL,
	jsonb_build_array(jsonb_build_object('type', 'Tick', 'data', i)))) FROM generate_series(1, 3000) i;
COMMIT;
SELECT count(*), min((c::jsonb->>'version')::int), max((c::jsonb->>'version')::int),
	   bool_and((c::jsonb->>'version')::int = (c::jsonb->>'data')::int) AS data_matches_version
  FROM changes() c;

-- TRUNCATE of the events by the owner: nothing either
TRUNCATE eventstore.events, eventstore.aggregates;
SELECT * FROM changes();

SELECT 'stop' FROM pg_drop_replication_slot('es_slot');
DROP FUNCTION public.changes(text[]);
DROP TABLE public.other;
